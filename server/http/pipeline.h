#pragma once
// Everything between a parsed request and the bytes of its answer, whatever the transport:
// request id, header limits, CORS, host endpoints, routing, the handler, the envelope.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "berth/json.h"
#include "cors_policy.h"
#include "host_request.h"
#include "http_response.h"
#include "route_table.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class RequestTracer;

struct HttpLimits {
    std::size_t maxBodyBytes = 1024 * 1024;
    std::size_t maxHeaderBytes = 16 * 1024;
    std::size_t maxHeaderCount = 64;
};

class HttpPipeline {
  public:
    /// A host endpoint answers GET (and HEAD): data for the envelope, or a raw reply (/metrics).
    using HostEndpoint = std::function<Reply()>;

    HttpPipeline(const RouteTable& routes, CorsPolicy cors, HttpLimits limits, Poco::Logger& logger);
    HttpPipeline(const HttpPipeline&) = delete;  // its blocking host routes point at its own Mount
    HttpPipeline& operator=(const HttpPipeline&) = delete;

    /// Registers e.g. "/health"; reserve the path in the RouteTable too, so no plugin shadows it.
    void addHostEndpoint(std::string path, HostEndpoint endpoint);
    /// A host endpoint that may block (/ready pings the pools): prepare() returns it as a route, so
    /// it runs on a worker like a plugin's handler, never on an I/O loop. Its route has plugin "" and
    /// pattern `path` (access log), and the metrics series of the other host endpoints.
    void addBlockingHostEndpoint(std::string path, Handler handler);
    /// Traces the requests routed to plugins (tracing.enabled); null (the default): no tracing.
    void setRequestTracer(const RequestTracer* tracer) noexcept { tracer_ = tracer; }

    /// Everything for one request, on the calling thread: prepare(), then run() if needed.
    void handle(HostRequest& request, HttpResponse& response) const;

    /// The part that never blocks: request id, limits, CORS, host endpoints, routing. Returns the
    /// route whose handler must still run (then call run(), on a worker if the route may
    /// block), or nullptr when `response` is already complete.
    const Route* prepare(HostRequest& request, HttpResponse& response) const;
    /// Runs the route's handler and writes its reply or error envelope into `response`.
    void run(const Route& route, HostRequest& request, HttpResponse& response) const;

    /// An error envelope for what the transport refuses before the pipeline runs (413, 400, …).
    void reject(HostRequest& request, int status, std::string_view message, const Json& error,
                HttpResponse& response) const;

    const HttpLimits& limits() const noexcept { return limits_; }

  private:
    void assignRequestId(HostRequest& request, HttpResponse& response) const;
    /// CORS headers for an actual (non-preflight) request.
    void applyCors(const HostRequest& request, HttpResponse& response) const;
    void fail(const HostRequest& request, int status, int code, std::string_view message, const Json& error,
              HttpResponse& response) const;
    /// OPTIONS and other methods on a host endpoint; false for GET and HEAD, which it answers itself.
    bool answerHostMethod(const HostRequest& request, HttpResponse& response) const;

    const RouteTable& routes_;
    CorsPolicy cors_;
    HttpLimits limits_;
    Poco::Logger& logger_;
    /// One lookup per request finds either kind of host endpoint.
    struct HostEntry {
        HostEndpoint immediate;           // answered on the calling thread, or
        std::unique_ptr<Route> blocking;  // handed back by prepare() for a worker
    };
    std::map<std::string, HostEntry, std::less<>> hostEndpoints_;
    const RequestTracer* tracer_ = nullptr;
    Mount hostMount_;  // what the blocking host endpoints' routes belong to (plugin "")
};

}  // namespace berth::server
