#pragma once
/// berth/testing.h — the test kit for plugins, shipped with the SDK: link `Berth::testkit` (it
/// brings CppUnit along).
///
/// ApiTestCase runs the plugins under test in a Berth host inside the test's own process, on a free
/// port of 127.0.0.1, against the local PostgreSQL and Redis, with a fresh schema and a fresh
/// Redis key prefix for every test; api() calls its routes and returns the parsed envelope.
///
///     class VisitsTest : public berth::testing::ApiTestCase {
///         CPPUNIT_TEST_SUITE(VisitsTest);
///         CPPUNIT_TEST(testCreateThenRead);
///         CPPUNIT_TEST_SUITE_END();
///
///       public:
///         VisitsTest() : ApiTestCase({VISITS_PLUGIN_FILE}, SERVICE_DIR "/conf/berth.properties") {}
///
///         void testCreateThenRead() {
///             setPlugin("visits", "cache_ttl_s", "0");           // before the first api() call
///             berth::Json task = berth::Json::object({{"title", "t"}, {"hospital_id", 7}});
///             berth::testing::ApiResult created = api().post("/visits/visit_tasks", task);
///             CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), 201, created.status());
///             berth::testing::ApiResult got =
///                 api().get("/visits/visit_tasks/<id>", {{"id", created.data()["id"].asInt()}});
///             CPPUNIT_ASSERT_EQUAL(std::string("t"), got.data()["title"].asString());
///             CPPUNIT_ASSERT_EQUAL(std::size_t(1), query("SELECT id FROM visit_tasks").size());
///         }
///     };
///     CPPUNIT_TEST_SUITE_REGISTRATION(VisitsTest);
///
/// MockService stands in for a downstream service (`clients.<service>.url`): a real HTTP server on
/// 127.0.0.1, on a port of its own, that answers what the test registered and records every call.
///
///     berth::testing::MockService hospitals;                           // listening already
///     hospitals.get("/hospitals/7", berth::Json::object({{"id", 7}, {"name", "St. Ann"}}));
///     hospitals.get("/hospitals/8").status(503).delay(std::chrono::milliseconds(200));
///     set("clients.hospital-service.url", hospitals.url());            // in an ApiTestCase
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

#include <cppunit/TestFixture.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "berth/db.h"
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
    /// When the whole request (head and body) had arrived, before any delay(): calls of several
    /// mocks tell whether the code under test made them at once.
    std::chrono::steady_clock::time_point receivedAt;

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

/// A path parameter, query parameter or header of an ApiClient call: a name and a value, the value
/// given as text or as an integer: `{{"id", 7}, {"X-Request-Id", "abc"}}`.
struct ApiParam {
    ApiParam(std::string name, std::string value) : name(std::move(name)), value(std::move(value)) {}
    ApiParam(std::string name, const char* value) : name(std::move(name)), value(value) {}
    template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
    ApiParam(std::string name, I value) : name(std::move(name)), value(std::to_string(value)) {}

    std::string name;
    std::string value;
};
using ApiParams = std::vector<ApiParam>;

/// What one ApiClient call answered. The body is parsed as JSON when it is JSON; json(), data(),
/// code(), message() and error() fail the test (a CppUnit failure naming the call and showing the
/// body) when it is not, or when the envelope lacks what they read.
class ApiResult {
  public:
    /// `call` names the request in messages ("GET /visits/visit_tasks/7").
    ApiResult(std::string call, HttpResponse response, std::string reason);

    int status() const noexcept { return response_.status; }
    const std::string& body() const noexcept { return response_.body; }
    const HttpHeaders& headers() const noexcept { return response_.headers; }
    /// The first value of a header (any case), or "" when absent.
    std::string header(std::string_view name) const;
    bool isJson() const noexcept { return parsed_; }

    /// The whole envelope: {"status": …, "code": …, "message": …, "data"|"error": …, …}.
    const Json& json() const;
    /// The envelope's "data" (a success envelope).
    const Json& data() const;
    /// The envelope's "error" (an error envelope; null when it has none).
    const Json& error() const;
    /// The envelope's "code" (0 for success, e.g. 40401 for an error) and "message".
    int code() const;
    std::string message() const;

    /// "GET /visits/visit_tasks/7 → 404 Not Found", the headers and the body: for assertion messages.
    std::string describe() const;

  private:
    std::string call_;
    HttpResponse response_;
    std::string reason_;
    Json json_;
    bool parsed_ = false;
    std::string parseError_;
};

/// An HTTP client of a Berth host on 127.0.0.1 (ApiTestCase::api(), or any berthd given its port).
/// Paths are route patterns: `<name>` and `<name:type>` are replaced by the path parameter of that
/// name, percent-encoded; a missing one, or one the path does not name, throws
/// std::invalid_argument. Query parameters are percent-encoded and appended in order. JSON bodies
/// go with Content-Type: application/json.
///
///     api().get("/visits/visit_tasks/<id>", {{"id", 7}});
///     api().get("/visits/visit_tasks", {}, {{"limit", 10}, {"offset", 20}});      // ?limit=10&offset=20
///     api().post("/visits/visit_tasks", berth::Json::object({{"title", "t"}}));
///     api().put("/visits/visit_tasks/<id>", {{"id", 7}}, body, {}, {{"X-Request-Id", "abc"}});
///     api().send("POST", "/visits/visit_tasks", {}, {}, {}, "{not json");             // any bytes
///
/// One connection per call, so a client may be used from several threads at once. A call that
/// gets no answer (refused, reset, nothing within the timeout) throws std::runtime_error naming it.
class ApiClient {
  public:
    explicit ApiClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    ApiResult get(std::string_view path, const ApiParams& params = {}, const ApiParams& query = {},
                  const ApiParams& headers = {}) const;
    ApiResult del(std::string_view path, const ApiParams& params = {}, const ApiParams& query = {},
                  const ApiParams& headers = {}) const;
    ApiResult post(std::string_view path, const Json& body) const;
    ApiResult post(std::string_view path, const ApiParams& params, const Json& body,
                   const ApiParams& query = {}, const ApiParams& headers = {}) const;
    ApiResult put(std::string_view path, const Json& body) const;
    ApiResult put(std::string_view path, const ApiParams& params, const Json& body,
                  const ApiParams& query = {}, const ApiParams& headers = {}) const;
    ApiResult patch(std::string_view path, const Json& body) const;
    ApiResult patch(std::string_view path, const ApiParams& params, const Json& body,
                    const ApiParams& query = {}, const ApiParams& headers = {}) const;
    /// Any method, with `body` sent as is (none when empty) and `contentType` when not empty.
    ApiResult send(std::string_view method, std::string_view path, const ApiParams& params,
                   const ApiParams& query, const ApiParams& headers, const std::string& body = "",
                   const std::string& contentType = "application/json") const;

    /// The request target of a call: the path with its parameters in place, then the query.
    static std::string target(std::string_view path, const ApiParams& params, const ApiParams& query = {});

    int port() const noexcept { return port_; }

  private:
    int port_;
    std::chrono::milliseconds timeout_;
};

/// A CppUnit fixture that runs the plugins under test in a Berth host inside the test's process
/// (the host berthd runs, not a copy), against the local PostgreSQL and Redis.
///
/// Settings, each layer over the one before: the `config` file (berth.properties; the plugins'
/// settings come from its plugins.conf_dir); the local services of the environment, the way
/// `eval "$(scripts/postgres env)"` and `eval "$(scripts/redis env)"` export them (BERTH_PG_HOST,
/// _PORT, _USER, _PASSWORD, _TEST_DATABASE for every db.<name>; BERTH_REDIS_HOST, _PORT,
/// _PASSWORD, _DB for redis.* when the file sets redis.host), each only when set (set to "" is an
/// empty value, e.g. no password; unset keeps the file's value), db.<name>.replicas always empty;
/// the kit's own (server.address
/// 127.0.0.1, a free server.port, the test's plugins, a fresh db.<name>.schema with auto_migrate,
/// a fresh redis.key_prefix, the access log in dir()); and last the test's set()/unset()/setPlugin().
/// Relative paths of the test's settings (tracing.file = spans.jsonl) are resolved against dir().
///
/// Fresh per test: setUp() picks a schema name and a key prefix of the test's own ("kit_<pid>_<n>"
/// and "kit_<pid>_<n>:"); the first start() creates the schema in every db.<name> (the plugins'
/// migrations then build their tables in it, auto_migrate); tearDown() stops the host, drops the
/// schema with everything in it and deletes every Redis key under the prefix. So tests run in any
/// order, and two test processes never meet.
///
/// The host starts on the first api(), port() or query() of a test, or at start(): set what the
/// test needs before that. stop(), set() and start() again restart it on the same schema and keys.
/// It logs into a buffer (log(), waitForLog()); BERTH_KIT_LOG=1 also copies it to stderr, and
/// BERTH_KIT_KEEP=1 keeps the test's folder (access.log, spans) after tearDown(). One host
/// per process at a time, as CppUnit runs one test at a time.
class ApiTestCase : public CppUnit::TestFixture {
  public:
    /// `plugins`: the plugin files (.so) under test. `config`: the berth.properties to start from,
    /// e.g. the service's conf/berth.properties. Cheap: CppUnit makes every fixture up front.
    ApiTestCase(std::vector<std::string> plugins, std::string config);
    ~ApiTestCase() override;

    void setUp() override;
    void tearDown() override;

    /// berth.properties: `key` = `value` for this test. Empty values count (redis.host = "" turns
    /// the cache off).
    void set(const std::string& key, const std::string& value);
    /// berth.properties: leaves out `key` and every key under it (unset("clients")).
    void unset(const std::string& key);
    /// plugins.d/<plugin>.properties: `key` = `value` for this test.
    void setPlugin(const std::string& plugin, const std::string& key, const std::string& value);

    /// Starts the host; a configuration problem or a start that fails fails the test, with the log.
    void start();
    /// Stops it (tearDown() does too). False when a handler or a gather task still ran plugin code
    /// after server.shutdown_timeout: the plugins then stay loaded, and the test should fail.
    bool stop();
    bool running() const noexcept;

    /// The client of this test's host (started if it is not).
    const ApiClient& api();
    /// The host's port (started if it is not).
    int port();
    /// Runs `sql` with `params` ($1…) in db.<database>, inside this test's schema, in a transaction
    /// of its own (committed); starts the host first, so the plugins' migrations have run.
    DbResult query(const std::string& sql, const std::vector<Json>& params = {},
                   const std::string& database = "main");

    /// This test's schema and Redis key prefix (valid from setUp()).
    const std::string& schema() const;
    const std::string& keyPrefix() const;
    /// This test's folder: plugins/, plugins.d/, access.log, and relative paths of set().
    const std::string& dir() const;
    /// What the host and the plugins logged since setUp(), one line per message.
    std::string log() const;
    /// Waits up to `timeout` for `text` to appear in log(); true when it did.
    bool waitForLog(std::string_view text, std::chrono::milliseconds timeout = std::chrono::seconds(3)) const;

    /// The implementation's (the host, the storage, the log); opaque here.
    struct State;

  private:
    std::vector<std::string> plugins_;
    std::string config_;
    std::unique_ptr<State> state_;
};

}  // namespace testing
}  // namespace v1
}  // namespace berth
