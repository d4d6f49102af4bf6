// The host's downstream client (server/client/) against MockService servers on 127.0.0.1: JSON
// helpers, status pass-through, request id forwarding, keep-alive reuse, timeouts (504),
// unreachable services (502), retries of idempotent calls only, a kept-alive connection the
// server closed, pool exhaustion (503), and https.
#include <Poco/Logger.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "berth/testing.h"
#include "client/host_http_client.h"
#include "observe/log_context.h"
#include "stopwatch.h"
#include "test_helpers.h"

using berth::ApiError;
using berth::DownstreamError;
using berth::HttpResponse;
using berth::Json;
using berth::server::ClientSettings;
using berth::server::HostHttpClient;
using berth::test::Clock;
using berth::test::msSince;
using berth::testing::MockCall;
using berth::testing::MockService;

namespace {

ClientSettings settingsFor(const std::string& url, const std::string& name = "hospital-service") {
    ClientSettings s;
    s.name = name;
    s.url = url;
    std::size_t hostStart = url.find("://") + 3;
    s.https = url.compare(0, 5, "https") == 0;
    std::size_t colon = url.find(':', hostStart);
    std::size_t slash = url.find('/', hostStart);
    s.host = url.substr(hostStart, colon - hostStart);
    s.port =
        std::stoi(url.substr(colon + 1, slash == std::string::npos ? std::string::npos : slash - colon - 1));
    s.basePath = slash == std::string::npos ? "" : url.substr(slash);
    s.connectTimeoutMs = 500;
    s.readTimeoutMs = 1000;
    s.poolSize = 4;
    s.poolWaitMs = 200;
    s.retries = 2;
    s.retryBackoffMs = 1;
    return s;
}

/// The ApiError `call` throws; fails the test when it throws none.
template <class Call>
ApiError apiErrorOf(Call&& call) {
    try {
        call();
    } catch (const ApiError& e) {
        return e;
    }
    CPPUNIT_FAIL("no ApiError was thrown");
    throw std::logic_error("unreachable");
}

Poco::Logger& testLogger() {
    return Poco::Logger::get("berth.clients.test");
}

}  // namespace

class HttpClientTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HttpClientTest);
    CPPUNIT_TEST(testGetJsonSendsContextHeaders);
    CPPUNIT_TEST(testBasePathAndQuery);
    CPPUNIT_TEST(testPostAndStatusPassThrough);
    CPPUNIT_TEST(testJsonHelpersThrowDownstreamError);
    CPPUNIT_TEST(testKeepAliveReusesOneConnection);
    CPPUNIT_TEST(testTimeoutIs504AndNotRetried);
    CPPUNIT_TEST(testConnectionRefusedIs502);
    CPPUNIT_TEST(testRetriesIdempotentCallsOnly);
    CPPUNIT_TEST(testStaleKeepAliveRetriedOnceForIdempotentOnly);
    CPPUNIT_TEST(testServerClosedIdleConnection);
    CPPUNIT_TEST(testPoolExhaustionIs503);
    CPPUNIT_TEST(testBrokenConnectionIsReplaced);
    CPPUNIT_TEST(testResponseTooLargeIs502NotRetried);
    CPPUNIT_TEST(testUnusableServiceIs503);
    CPPUNIT_TEST(testBadPathOrHeaderIsAProgrammingError);
    CPPUNIT_TEST(testHttps);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testGetJsonSendsContextHeaders() {
        MockService mock;
        mock.get("/hospitals/7", Json::object({{"id", 7}, {"name", "St. Ann"}}));
        HostHttpClient client(settingsFor(mock.url()), testLogger());
        Json hospital;
        {
            berth::server::LogContextScope scope("visits", "req-42");
            hospital = client.getJson("/hospitals/7");
        }
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":7,"name":"St. Ann"})"), hospital.dump());
        std::vector<MockCall> calls = mock.received("GET", "/hospitals/7");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), calls.size());
        CPPUNIT_ASSERT_EQUAL(std::string("req-42"), calls[0].header("X-Request-Id"));
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), calls[0].header("Accept"));
        CPPUNIT_ASSERT_EQUAL(std::string("berthd"), calls[0].header("User-Agent"));
        CPPUNIT_ASSERT_EQUAL("127.0.0.1:" + std::to_string(mock.port()), calls[0].header("Host"));

        // Outside a request there is no id to forward; a plugin's own X-Request-Id wins inside one.
        client.getJson("/hospitals/7");
        {
            berth::server::LogContextScope scope("visits", "req-43");
            client.getJson("/hospitals/7", {{"X-Request-Id", "mine"}});
        }
        calls = mock.received("GET", "/hospitals/7");
        CPPUNIT_ASSERT_EQUAL(std::string(""), calls.at(1).header("X-Request-Id"));
        CPPUNIT_ASSERT_EQUAL(std::string("mine"), calls.at(2).header("X-Request-Id"));
    }

    void testBasePathAndQuery() {
        MockService mock;
        mock.get("/api/v2/products", Json::array({1, 2}));
        HostHttpClient client(settingsFor(mock.url() + "/api/v2"), testLogger());
        CPPUNIT_ASSERT_EQUAL(std::string("[1,2]"), client.getJson("/products?ids=1,2").dump());
        std::vector<MockCall> calls = mock.received("GET", "/api/v2/products");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), calls.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ids=1,2"), calls[0].query);
    }

    void testPostAndStatusPassThrough() {
        MockService mock;
        mock.post("/hospitals", Json::object({{"id", 9}})).status(201).header("Location", "/hospitals/9");
        mock.get("/hospitals/404").status(404).body("no such hospital");
        HostHttpClient client(settingsFor(mock.url()), testLogger());

        Json made = client.postJson("/hospitals", Json::object({{"name", "x"}}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":9})"), made.dump());
        MockCall posted = mock.received("POST", "/hospitals").at(0);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"name":"x"})"), posted.body);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), posted.header("Content-Type"));

        HttpResponse raw = client.post("/hospitals", "plain", "text/plain");
        CPPUNIT_ASSERT_EQUAL(201, raw.status);
        CPPUNIT_ASSERT_EQUAL(std::string("/hospitals/9"), std::string(raw.header("location")));
        CPPUNIT_ASSERT_EQUAL(std::string("plain"), mock.received("POST", "/hospitals").at(1).body);

        // A non-2xx answer is the caller's to handle with the plain calls.
        HttpResponse missing = client.get("/hospitals/404");
        CPPUNIT_ASSERT_EQUAL(404, missing.status);
        CPPUNIT_ASSERT(!missing.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("no such hospital"), missing.body);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.calls("GET", "/hospitals/404"));  // no retry of an answer
    }

    void testJsonHelpersThrowDownstreamError() {
        MockService mock;
        mock.get("/hospitals/404").status(404).json(Json::object({{"message", "gone"}}));
        mock.get("/hospitals/bad").body("<html>");
        mock.del("/hospitals/1").status(204);
        HostHttpClient client(settingsFor(mock.url()), testLogger());
        try {
            client.getJson("/hospitals/404");
            CPPUNIT_FAIL("a 404 must throw DownstreamError");
        } catch (const DownstreamError& e) {
            CPPUNIT_ASSERT_EQUAL(502, e.httpStatus());
            CPPUNIT_ASSERT_EQUAL(50202, e.code());
            CPPUNIT_ASSERT_EQUAL(404, e.status());
            CPPUNIT_ASSERT_EQUAL(std::string("hospital-service"), e.service());
            CPPUNIT_ASSERT_EQUAL(std::string(R"({"message":"gone"})"), e.body());
            CPPUNIT_ASSERT_EQUAL(std::string("service 'hospital-service' answered 404 to GET /hospitals/404"),
                                 e.message());
            CPPUNIT_ASSERT_EQUAL(std::string(R"({"service":"hospital-service","status":404})"),
                                 e.error().dump());
        }
        try {
            client.getJson("/hospitals/bad");
            CPPUNIT_FAIL("a body that is not JSON must throw DownstreamError");
        } catch (const DownstreamError& e) {
            CPPUNIT_ASSERT_EQUAL(200, e.status());
            CPPUNIT_ASSERT(e.message().find("with a body that is not JSON") != std::string::npos);
        }
        CPPUNIT_ASSERT(client.deleteJson("/hospitals/1").isNull());  // 204: no body, null
    }

    void testKeepAliveReusesOneConnection() {
        MockService mock;
        mock.get("/cities/1", Json::object({{"id", 1}}));
        HostHttpClient client(settingsFor(mock.url()), testLogger());
        for (int i = 0; i < 20; ++i) client.getJson("/cities/1");
        CPPUNIT_ASSERT_EQUAL(std::size_t(20), mock.calls("GET", "/cities/1"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.connections());
        for (const MockCall& call : mock.received()) CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), call.connection);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), client.poolStats().created);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(19), client.poolStats().reused);
    }

    void testTimeoutIs504AndNotRetried() {
        MockService mock;
        mock.get("/slow", Json::object()).delay(std::chrono::milliseconds(800));
        ClientSettings s = settingsFor(mock.url());
        s.readTimeoutMs = 150;
        HostHttpClient client(s, testLogger());
        Clock::time_point start = Clock::now();
        ApiError e = apiErrorOf([&] { client.getJson("/slow"); });
        long long took = msSince(start);
        CPPUNIT_ASSERT_EQUAL(504, e.httpStatus());
        CPPUNIT_ASSERT_EQUAL(50401, e.code());
        CPPUNIT_ASSERT_EQUAL(std::string("service 'hospital-service' timed out"), e.message());
        CPPUNIT_ASSERT_EQUAL(std::string("hospital-service"), e.error()["service"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("no answer within clients.hospital-service.read_timeout_ms = 150"),
                             e.error()["reason"].asString());
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 140 && took < 600);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.calls("GET", "/slow"));
    }

    void testConnectionRefusedIs502() {
        MockService mock;
        std::string url = mock.url();
        mock.stop();  // nothing listens on that port any more
        HostHttpClient client(settingsFor(url), testLogger());
        ApiError e = apiErrorOf([&] { client.get("/hospitals/1"); });
        CPPUNIT_ASSERT_EQUAL(502, e.httpStatus());
        CPPUNIT_ASSERT_EQUAL(50201, e.code());
        CPPUNIT_ASSERT_EQUAL(std::string("service 'hospital-service' is unreachable"), e.message());
        CPPUNIT_ASSERT_MESSAGE(e.error().dump(),
                               e.error()["reason"].asString().find("refused") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), client.poolStats().created);  // 1 + retries = 2
    }

    void testRetriesIdempotentCallsOnly() {
        MockService mock;
        using berth::Method;
        for (Method method : {Method::Get, Method::Put, Method::Delete, Method::Post, Method::Patch})
            mock.on(berth::methodName(method), "/flaky").dropConnection();
        HostHttpClient client(settingsFor(mock.url()), testLogger());
        for (Method method : {Method::Get, Method::Put, Method::Delete, Method::Post, Method::Patch}) {
            berth::HttpCall call;
            call.method = method;
            call.path = "/flaky";
            ApiError e = apiErrorOf([&] { client.send(call); });
            CPPUNIT_ASSERT_EQUAL(502, e.httpStatus());
            bool idempotent = method != Method::Post && method != Method::Patch;
            CPPUNIT_ASSERT_EQUAL_MESSAGE(berth::methodName(method), std::size_t(idempotent ? 3 : 1),
                                         mock.calls(berth::methodName(method), "/flaky"));  // 1 + 2 retries
        }
    }

    // A kept-alive connection that fails before any answer counts as stale: idempotent calls are
    // tried once more on a new connection without using up a retry; POST is not.
    void testStaleKeepAliveRetriedOnceForIdempotentOnly() {
        MockService mock;
        mock.get("/ok", Json::object());
        mock.get("/drop").dropConnection();
        mock.post("/drop").dropConnection();
        ClientSettings s = settingsFor(mock.url());
        s.retries = 0;
        HostHttpClient client(s, testLogger());
        client.getJson("/ok");
        apiErrorOf([&] { client.get("/drop"); });
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), mock.calls("GET", "/drop"));
        client.getJson("/ok");
        apiErrorOf([&] { client.post("/drop", "{}"); });
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.calls("POST", "/drop"));
    }

    void testServerClosedIdleConnection() {
        MockService::Options options;
        options.keepAliveTimeout = std::chrono::milliseconds(200);
        MockService mock(options);
        mock.get("/cities/1", Json::object({{"id", 1}}));
        mock.post("/cities", Json::object({{"id", 2}}));
        ClientSettings s = settingsFor(mock.url());
        s.retries = 0;
        HostHttpClient client(s, testLogger());
        client.getJson("/cities/1");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the mock closes the idle connection
        // Neither call fails, not even the POST, which is never retried: the closed connection is
        // noticed before it is used.
        client.getJson("/cities/1");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        client.postJson("/cities", Json::object());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), mock.connections());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.calls("POST", "/cities"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), client.poolStats().dropped);
    }

    void testPoolExhaustionIs503() {
        MockService mock;
        mock.get("/slow", Json::object()).delay(std::chrono::milliseconds(600));
        mock.get("/fast", Json::object());
        ClientSettings s = settingsFor(mock.url());
        s.poolSize = 1;
        s.poolWaitMs = 100;
        HostHttpClient client(s, testLogger());
        std::future<Json> slow = std::async(std::launch::async, [&] { return client.getJson("/slow"); });
        while (mock.calls("GET", "/slow") == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        Clock::time_point start = Clock::now();
        ApiError e = apiErrorOf([&] { client.getJson("/fast"); });
        long long took = msSince(start);
        CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
        CPPUNIT_ASSERT_EQUAL(50302, e.code());
        CPPUNIT_ASSERT_EQUAL(std::string("no free connection to service 'hospital-service'"), e.message());
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 90 && took < 400);
        CPPUNIT_ASSERT(slow.get().isObject());
        // Once the slow call is back, its connection serves the next one.
        client.getJson("/fast");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.connections());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.calls("GET", "/fast"));
    }

    void testBrokenConnectionIsReplaced() {
        MockService mock;
        mock.get("/ok", Json::object());
        mock.post("/drop").dropConnection();
        ClientSettings s = settingsFor(mock.url());
        s.poolSize = 1;
        HostHttpClient client(s, testLogger());
        client.getJson("/ok");
        apiErrorOf([&] { client.post("/drop", "{}"); });
        // The pool's only slot was freed and a new connection serves the next call.
        client.getJson("/ok");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), mock.connections());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), client.poolStats().open);
    }

    void testResponseTooLargeIs502NotRetried() {
        MockService mock;
        mock.get("/big").body(std::string(100000, 'x'));
        ClientSettings s = settingsFor(mock.url());
        s.maxResponseBytes = 1000;
        HostHttpClient client(s, testLogger());
        ApiError e = apiErrorOf([&] { client.get("/big"); });
        CPPUNIT_ASSERT_EQUAL(502, e.httpStatus());
        CPPUNIT_ASSERT_EQUAL(
            std::string("the answer is larger than clients.hospital-service.max_response_bytes = 1000"),
            e.error()["reason"].asString());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.calls("GET", "/big"));
    }

    void testUnusableServiceIs503() {
        ClientSettings s;
        s.name = "user-service";
        s.unusable = "clients.user-service.url: ${system.env.X} is not defined";
        HostHttpClient client(s, testLogger());
        ApiError e = apiErrorOf([&] { client.getJson("/users/1"); });
        CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
        CPPUNIT_ASSERT_EQUAL(50301, e.code());
        CPPUNIT_ASSERT_EQUAL(std::string("service 'user-service' is not configured"), e.message());
        CPPUNIT_ASSERT_EQUAL(s.unusable, e.error()["reason"].asString());
    }

    void testBadPathOrHeaderIsAProgrammingError() {
        MockService mock;
        HostHttpClient client(settingsFor(mock.url()), testLogger());
        CPPUNIT_ASSERT_THROW(client.get("hospitals/1"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(client.get("/a b"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(client.get("/a\r\nX-Evil: 1"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(client.get("/caf\xc3\xa9"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(client.get("/a", {{"X-Ok", "a\r\nX-Evil: 1"}}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(client.get("/a", {{"Bad Name", "v"}}), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), mock.received().size());
    }

    // https against a MockService with a self-signed certificate made for the test: trusted through
    // ca_file it answers; without it the handshake is refused (502), never accepted.
    void testHttps() {
        berth::test::TempDir dir;
        std::string command =
            "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
            "-addext subjectAltName=IP:127.0.0.1 -keyout " +
            dir.file("key.pem") + " -out " + dir.file("cert.pem") + " >/dev/null 2>&1";
        CPPUNIT_ASSERT_EQUAL_MESSAGE("openssl must make a test certificate", 0, std::system(command.c_str()));
        MockService::Options options;
        options.certificateFile = dir.file("cert.pem");
        options.privateKeyFile = dir.file("key.pem");
        MockService mock(options);
        mock.get("/secure", Json::object({{"tls", true}}));
        CPPUNIT_ASSERT_EQUAL(std::string("https://127.0.0.1:"), mock.url().substr(0, 18));

        ClientSettings trusted = settingsFor(mock.url());
        trusted.caFile = dir.file("cert.pem");
        HostHttpClient client(trusted, testLogger());
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"tls":true})"), client.getJson("/secure").dump());
        client.getJson("/secure");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.connections());  // kept alive over TLS too

        ClientSettings untrusted = settingsFor(mock.url());
        untrusted.retries = 0;
        HostHttpClient stranger(untrusted, testLogger());
        ApiError e = apiErrorOf([&] { stranger.getJson("/secure"); });
        CPPUNIT_ASSERT_EQUAL(502, e.httpStatus());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), mock.calls("GET", "/secure"));  // the stranger's never arrived
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HttpClientTest);
