#pragma once
/// berth/http_client.h — downstream HTTP services: the named clients of conf/berth.properties
/// (`clients.<service>.*`), one pool of keep-alive connections per service, shared by every plugin.
///
///     void configure(berth::Context& ctx) override {
///         hospitals_ = &ctx.http("hospital-service");   // not in berth.properties: throws here
///     }
///
///     berth::Reply show(const berth::Request& req) {
///         // 2xx: the parsed body; any other status: DownstreamError (a 502 envelope if not caught)
///         berth::Json hospital = hospitals_->getJson("/hospitals/" + req.param("id"));
///         // Any status, for the caller to handle
///         berth::HttpResponse beds = hospitals_->get("/hospitals/7/beds");
///         if (beds.status == 404) return berth::Json::array();
///         berth::Json made = hospitals_->postJson("/hospitals", berth::Json::object({{"name", "St. Ann"}}));
///         ...
///     }
///
/// Every call carries the X-Request-Id of the request the calling thread serves (also inside
/// berth::gather tasks) and the request's tracing headers. Paths are relative to the service's
/// `clients.<service>.url` (its path, if any, is put in front) and may carry a query.
///
/// Errors, as ApiError (so an uncaught one becomes an envelope naming the service):
///  - 502 (code 50201): the service cannot be reached (connection refused, unknown host, the
///    connection broke before an answer came);
///  - 504 (code 50401): no connection or no answer within clients.<service>.connect_timeout_ms /
///    read_timeout_ms;
///  - 503 (code 50301): the service is not usable as configured (its url names an undefined
///    ${system.env.X}); 503 (code 50302): no free connection within clients.<service>.pool_wait_ms;
///  - 502 (code 50202), a DownstreamError: only from the *Json helpers — the service answered with a
///    status outside 2xx, or with a 2xx body that is not JSON. The plain get/post/… return every
///    answer the service gave, whatever its status.
/// GET, HEAD, PUT, DELETE and OPTIONS are retried (clients.<service>.retries, with a short backoff)
/// when the connection failed; POST and PATCH never are. A timed-out call is not retried.
/// A bad path or header (not starting with '/', spaces or control characters) throws
/// std::invalid_argument: a programming error, answered 500.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/error.h"
#include "berth/json.h"
#include "berth/request.h"

namespace berth {
inline namespace v1 {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// Error codes of the envelopes the clients throw (see above).
enum HttpClientErrorCode : int {
    kDownstreamUnreachable = 50201,
    kDownstreamBadAnswer = 50202,
    kDownstreamNotConfigured = 50301,
    kDownstreamPoolExhausted = 50302,
    kDownstreamTimeout = 50401,
};

/// A downstream service's answer, whatever its status.
struct HttpResponse {
    int status = 0;
    HttpHeaders headers;  ///< in the order received
    std::string body;

    bool ok() const noexcept { return status >= 200 && status < 300; }
    /// The first value of a header (any case), or empty when absent.
    std::string_view header(std::string_view name) const noexcept;
    /// The body as JSON; null for an empty body. Throws JsonError when it is not JSON.
    Json json() const;
};

/// What the *Json helpers throw for an answer they cannot use: a status outside 2xx, or a 2xx
/// body that is not JSON. An ApiError 502 (code 50202) whose error names the service and its
/// status, so that an uncaught one is a clear envelope; the body stays here, for the plugin (it
/// is not sent to the caller).
class DownstreamError : public ApiError {
  public:
    DownstreamError(std::string service, int status, std::string body, std::string message);
    ~DownstreamError() override;

    const std::string& service() const noexcept { return service_; }
    /// The status the service answered with.
    int status() const noexcept { return status_; }
    const std::string& body() const noexcept { return body_; }

  private:
    std::string service_;
    int status_;
    std::string body_;
};

/// One request to a service.
struct HttpCall {
    Method method = Method::Get;
    std::string path;  ///< "/hospitals/7?full=1", relative to the service's url
    std::string body;
    std::string contentType;  ///< sent with the body when not empty
    HttpHeaders headers;      ///< extra request headers (the host sets Host, Content-Length, X-Request-Id)
};

/// A plugin's client of one service; from Context::http(). Thread-safe, valid until the plugin is
/// destroyed.
class HttpClient {
  public:
    virtual ~HttpClient();

    /// The service's name in berth.properties ("hospital-service").
    virtual const std::string& service() const noexcept = 0;
    /// Sends one request and returns the answer, whatever its status. Throws ApiError 502/503/504
    /// (see the top of this file) when there is no answer.
    virtual HttpResponse send(const HttpCall& call) = 0;

    HttpResponse get(std::string path, HttpHeaders headers = {});
    HttpResponse del(std::string path, HttpHeaders headers = {});
    HttpResponse post(std::string path, std::string body, std::string contentType = "application/json",
                      HttpHeaders headers = {});
    HttpResponse put(std::string path, std::string body, std::string contentType = "application/json",
                     HttpHeaders headers = {});
    HttpResponse patch(std::string path, std::string body, std::string contentType = "application/json",
                       HttpHeaders headers = {});

    /// The 2xx answer's body as JSON (null when empty); DownstreamError otherwise.
    Json getJson(std::string path, HttpHeaders headers = {});
    Json postJson(std::string path, const Json& body, HttpHeaders headers = {});
    Json putJson(std::string path, const Json& body, HttpHeaders headers = {});
    Json patchJson(std::string path, const Json& body, HttpHeaders headers = {});
    Json deleteJson(std::string path, HttpHeaders headers = {});

  private:
    Json expectJson(const HttpCall& call);
};

}  // namespace v1
}  // namespace berth
