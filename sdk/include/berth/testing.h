#pragma once
/// berth/testing.h — the test kit for plugins, shipped with the SDK: link `Berth::testkit`.
///
/// MockService stands in for a downstream service (`clients.<service>.url`): a real HTTP server on
/// 127.0.0.1, on a port of its own, that answers what the test registered and records every call.
///
///     berth::testing::MockService hospitals;                           // listening already
///     hospitals.get("/hospitals/7", berth::Json::object({{"id", 7}, {"name", "St. Ann"}}));
///     hospitals.get("/hospitals/8").status(503).delay(std::chrono::milliseconds(200));
///     berthd.set("clients.hospital-service.url", hospitals.url());     // http://127.0.0.1:<port>
///     ... run the code under test ...
///     CPPUNIT_ASSERT_EQUAL(std::size_t(1), hospitals.calls("GET", "/hospitals/7"));
///     std::string id = hospitals.received("GET", "/hospitals/7").at(0).header("X-Request-Id");
///
/// - Routes match on method and path (the query is not part of the match; MockCall::query has it).
///   Registering a route again replaces its answer and keeps its calls.
/// - A call no route matches is answered 404 with a JSON body naming it, and counted (unmatched()).
/// - delay() holds the answer back (the connection stays open); dropConnection() closes the
///   connection without any answer, as a crashing service would.
/// - connections() counts the TCP connections accepted, so a test can tell keep-alive reuse
///   from a connection per call.
/// - Thread-safe: answers may be changed and calls read while the code under test calls it.
/// - stop() stops listening (later connects are refused); the destructor stops it too.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/http_client.h"
#include "berth/json.h"

namespace berth {
inline namespace v1 {
namespace testing {

/// One request a MockService received.
struct MockCall {
    std::string method;
    std::string path;   ///< without the query
    std::string query;  ///< without '?', or empty
    HttpHeaders headers;
    std::string body;
    std::uint64_t connection = 0;  ///< which TCP connection: 1 for the first the mock accepted, …
    bool matched = false;          ///< a route answered it (false: the 404)

    /// The first value of a header (any case), or "" when absent.
    std::string header(std::string_view name) const;
};

class MockService;

/// The answer of one route; returned by MockService::on/get/post/…, each setter for chaining.
class MockRoute {
  public:
    MockRoute(MockService& service, std::string method, std::string path);

    /// The status (default 200).
    MockRoute& status(int code);
    /// A JSON body (Content-Type: application/json).
    MockRoute& json(const Json& payload);
    /// A body as is.
    MockRoute& body(std::string body, std::string contentType = "text/plain; charset=utf-8");
    MockRoute& header(std::string name, std::string value);
    /// Waits this long before answering.
    MockRoute& delay(std::chrono::milliseconds wait);
    /// Closes the connection without answering (after the delay, if any).
    MockRoute& dropConnection();

    /// How many calls this route answered (or dropped).
    std::size_t calls() const;
    std::vector<MockCall> received() const;

  private:
    MockService* service_;
    std::string method_;
    std::string path_;
};

class MockService {
  public:
    struct Options {
        /// How long the mock keeps an idle keep-alive connection open (Poco's default: 10 s).
        std::chrono::milliseconds keepAliveTimeout{10000};
        /// Connections served at once (one thread each).
        int maxConnections = 64;
        /// https when both are set: PEM files of the server's certificate and private key.
        std::string certificateFile;
        std::string privateKeyFile;
    };

    /// Starts listening on 127.0.0.1 on a free port.
    MockService();
    explicit MockService(const Options& options);
    ~MockService();
    MockService(const MockService&) = delete;
    MockService& operator=(const MockService&) = delete;

    int port() const noexcept;
    /// "http://127.0.0.1:<port>" (https:// with a certificate): the value for clients.<service>.url.
    std::string url() const;

    /// A route for `method` ("GET", "POST", …) and `path` (from '/', no query); answers 200 with an
    /// empty body until told otherwise.
    MockRoute on(std::string method, std::string path);
    /// Shorthands: the route answering 200 with `payload` as JSON (none: an empty body).
    MockRoute get(std::string path, const Json& payload = nullptr);
    MockRoute post(std::string path, const Json& payload = nullptr);
    MockRoute put(std::string path, const Json& payload = nullptr);
    MockRoute patch(std::string path, const Json& payload = nullptr);
    MockRoute del(std::string path, const Json& payload = nullptr);

    /// Calls received for one route, and every call in arrival order (unmatched ones too).
    std::size_t calls(std::string_view method, std::string_view path) const;
    std::vector<MockCall> received(std::string_view method, std::string_view path) const;
    std::vector<MockCall> received() const;
    /// Calls no route matched (answered 404).
    std::size_t unmatched() const;
    /// TCP connections accepted since the start.
    std::size_t connections() const;
    /// Forgets every route and every recorded call (not the connection count).
    void reset();
    /// Stops listening and closes the connections; idempotent.
    void stop();

    /// The implementation's (routes, calls, the server); opaque here.
    struct State;

  private:
    friend class MockRoute;
    std::shared_ptr<State> state_;
};

}  // namespace testing
}  // namespace v1
}  // namespace berth
