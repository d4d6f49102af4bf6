// What berthd does around every handler: X-Request-Id, CORS (plain and preflight), and the body
// and header limits (413, 431). The host must keep serving after each refusal.
#include <Poco/Exception.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "http_probe.h"

namespace berth::test {
namespace {

constexpr const char* kAppOrigin = "https://app.example.com";
constexpr const char* kDevOrigin = "http://localhost:3000";
constexpr const char* kEvilOrigin = "https://evil.example.com";
constexpr std::size_t kMaxBody = 64;
constexpr int kMaxHeaderCount = 10;
constexpr int kMaxHeaderBytes = 512;

bool isGeneratedId(const std::string& id) {
    if (id.size() != 32) return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

/// An error envelope whose code is the HTTP status and whose request_id is the response header.
Poco::JSON::Object::Ptr assertHostError(const HttpResult& r, int status, const std::string& message) {
    E2E_ASSERT_STATUS(status, r);
    Poco::JSON::Object::Ptr envelope = r.json();
    E2E_ASSERT_KEYS(envelope, "status", "code", "message", "error", "request_id");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), false, envelope->getValue<bool>("status"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), status, envelope->getValue<int>("code"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), message, envelope->getValue<std::string>("message"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), r.header("X-Request-Id"),
                                 envelope->getValue<std::string>("request_id"));
    CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.header("X-Request-Id").empty());
    return envelope;
}

/// A JSON document of exactly `size` bytes: {"s":"aaa…"}.
std::string jsonOfSize(std::size_t size) {
    return "{\"s\":\"" + std::string(size - 8, 'a') + "\"}";
}

/// GET /hello/greet/x with Host (11 bytes as counted: name + value + 4), Connection (19 bytes)
/// and `extra`, which must end in \r\n.
std::string requestWithHeaders(const std::string& extra) {
    return "GET /hello/greet/x HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n" + extra + "\r\n";
}

}  // namespace

class MiddlewareTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MiddlewareTest);
    CPPUNIT_TEST(testSaneRequestIdIsKept);
    CPPUNIT_TEST(testInsaneRequestIdIsReplaced);
    CPPUNIT_TEST(testMissingRequestIdIsGenerated);
    CPPUNIT_TEST(testCorsAllowedOriginGetsHeaders);
    CPPUNIT_TEST(testCorsDisallowedOriginGetsNoHeaders);
    CPPUNIT_TEST(testCorsPreflightAllowed);
    CPPUNIT_TEST(testCorsPreflightRefused);
    CPPUNIT_TEST(testBrowserPreflightWithoutContentLength);
    CPPUNIT_TEST(testCorsOffWhenNoOriginConfigured);
    CPPUNIT_TEST(testCorsHeadersOnLimitRefusals);
    CPPUNIT_TEST(testBodyOverLimitWithContentLengthIs413);
    CPPUNIT_TEST(testChunkedBodyOverLimitIs413);
    CPPUNIT_TEST(testTooManyHeadersIs431);
    CPPUNIT_TEST(testTooManyHeaderBytesIs431);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addHelloPlugin();
        berthd_->set("cors.allowed_origins", std::string(kAppOrigin) + ", " + kDevOrigin);
        berthd_->set("http.max_body_bytes", std::to_string(kMaxBody));
        berthd_->set("http.max_header_count", std::to_string(kMaxHeaderCount));
        berthd_->set("http.max_header_bytes", std::to_string(kMaxHeaderBytes));
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port());
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
    }

    void testSaneRequestIdIsKept() {
        const std::string longest(128, 'k');
        for (const std::string& id : {std::string("req-42.a_b:C9"), std::string("x"), longest}) {
            HttpResult ok = http_->get("/hello/greet/x", {{"X-Request-Id", id}});
            E2E_ASSERT_STATUS(200, ok);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(ok.describe(), id, ok.header("X-Request-Id"));
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), ok.headerValues("X-Request-Id").size());

            HttpResult error = http_->get("/hello/error", {{"X-Request-Id", id}});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(error.describe(), id, error.header("X-Request-Id"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(error.describe(), id,
                                         error.json()->getValue<std::string>("request_id"));

            HttpResult notFound = http_->get("/nope", {{"X-Request-Id", id}});
            CPPUNIT_ASSERT_EQUAL(
                id, assertHostError(notFound, 404, "not found")->getValue<std::string>("request_id"));
        }
    }

    void testInsaneRequestIdIsReplaced() {
        for (const std::string& id :
             {std::string("has space"), std::string(129, 'a'), std::string(200, 'b'),
              std::string("x<script>"), std::string("a/b"), std::string("\"quoted\"")}) {
            HttpResult ok = http_->get("/hello/greet/x", {{"X-Request-Id", id}});
            E2E_ASSERT_STATUS(200, ok);
            CPPUNIT_ASSERT_MESSAGE("kept an insane id:\n" + ok.describe(),
                                   isGeneratedId(ok.header("X-Request-Id")));
            E2E_ASSERT_NOT_CONTAINS(ok.describe(), id);

            HttpResult error = http_->get("/hello/numbers/99999999999999999999", {{"X-Request-Id", id}});
            Poco::JSON::Object::Ptr envelope = assertHostError(error, 400, "bad request");
            CPPUNIT_ASSERT_MESSAGE(error.describe(),
                                   isGeneratedId(envelope->getValue<std::string>("request_id")));
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testMissingRequestIdIsGenerated() {
        HttpResult first = http_->get("/hello/greet/x");
        HttpResult second = http_->get("/hello/greet/x");
        CPPUNIT_ASSERT_MESSAGE(first.describe(), isGeneratedId(first.header("X-Request-Id")));
        CPPUNIT_ASSERT_MESSAGE(second.describe(), isGeneratedId(second.header("X-Request-Id")));
        CPPUNIT_ASSERT_MESSAGE("two requests got the same id",
                               first.header("X-Request-Id") != second.header("X-Request-Id"));

        // Empty is not sane either.
        HttpResult empty = http_->get("/hello/greet/x", {{"X-Request-Id", ""}});
        CPPUNIT_ASSERT_MESSAGE(empty.describe(), isGeneratedId(empty.header("X-Request-Id")));

        // Generated ids reach error envelopes, from the host and from plugins alike.
        Poco::JSON::Object::Ptr notFound = assertHostError(http_->get("/nope"), 404, "not found");
        CPPUNIT_ASSERT(isGeneratedId(notFound->getValue<std::string>("request_id")));
        HttpResult apiError = http_->get("/hello/error");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(apiError.describe(), apiError.header("X-Request-Id"),
                                     apiError.json()->getValue<std::string>("request_id"));
        CPPUNIT_ASSERT(isGeneratedId(apiError.header("X-Request-Id")));
        HttpResult crash = http_->get("/hello/crash");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(crash.describe(), crash.header("X-Request-Id"),
                                     crash.json()->getValue<std::string>("request_id"));
        // ... and the log, so that a 500 reported by a user can be found.
        CPPUNIT_ASSERT_MESSAGE(berthd_->log(), berthd_->waitForLog(crash.header("X-Request-Id")));
    }

    void testCorsAllowedOriginGetsHeaders() {
        for (const char* origin : {kAppOrigin, kDevOrigin}) {
            HttpResult r = http_->get("/hello/greet/x", {{"Origin", origin}});
            E2E_ASSERT_STATUS(200, r);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string(origin),
                                         r.header("Access-Control-Allow-Origin"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("Origin"), r.header("Vary"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("X-Request-Id"),
                                         r.header("Access-Control-Expose-Headers"));
            CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.has("Access-Control-Allow-Credentials"));
        }
        // Error answers carry them too, or the browser hides the envelope from the page.
        for (const char* path : {"/hello/error", "/nope", "/hello/crash"}) {
            HttpResult r = http_->get(path, {{"Origin", kAppOrigin}});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string(kAppOrigin),
                                         r.header("Access-Control-Allow-Origin"));
        }
        HttpResult post = http_->post("/hello/echo", "{}", "application/json", {{"Origin", kAppOrigin}});
        E2E_ASSERT_STATUS(200, post);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(post.describe(), std::string(kAppOrigin),
                                     post.header("Access-Control-Allow-Origin"));
    }

    void testCorsDisallowedOriginGetsNoHeaders() {
        for (const char* origin : {kEvilOrigin, "https://app.example.com.evil.com", "https://APP.example.com",
                                   "http://app.example.com", "null"}) {
            HttpResult r = http_->get("/hello/greet/x", {{"Origin", origin}});
            E2E_ASSERT_STATUS(200, r);  // the server answers; the browser withholds it
            CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.has("Access-Control-Allow-Origin"));
            CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.has("Access-Control-Expose-Headers"));
        }
        HttpResult none = http_->get("/hello/greet/x");
        CPPUNIT_ASSERT_MESSAGE(none.describe(), !none.has("Access-Control-Allow-Origin"));
    }

    void testCorsPreflightAllowed() {
        HttpCall preflight;
        preflight.method = "OPTIONS";
        preflight.target = "/hello/echo";
        preflight.contentLength = true;  // see testBrowserPreflightWithoutContentLength
        preflight.headers = {{"Origin", kAppOrigin},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "content-type, x-request-id"}};
        HttpResult r = http_->send(preflight);
        E2E_ASSERT_STATUS(204, r);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string(kAppOrigin),
                                     r.header("Access-Control-Allow-Origin"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("GET, POST, PUT, PATCH, DELETE"),
                                     r.header("Access-Control-Allow-Methods"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("Content-Type, Authorization, X-Request-Id"),
                                     r.header("Access-Control-Allow-Headers"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("600"), r.header("Access-Control-Max-Age"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("Origin"), r.header("Vary"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string(), r.body);

        // Without request headers, and for a method the route itself does not have.
        preflight.headers = {{"Origin", kDevOrigin}, {"Access-Control-Request-Method", "DELETE"}};
        preflight.target = "/hello/greet/x";
        HttpResult bare = http_->send(preflight);
        E2E_ASSERT_STATUS(204, bare);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(bare.describe(), std::string(kDevOrigin),
                                     bare.header("Access-Control-Allow-Origin"));
    }

    void testCorsPreflightRefused() {
        struct Case {
            std::string origin, method, headers, why;
        };
        for (const Case& c :
             {Case{kEvilOrigin, "POST", "", "origin 'https://evil.example.com' is not allowed"},
              Case{kAppOrigin, "TRACE", "", "method 'TRACE' is not allowed"},
              Case{kAppOrigin, "POST", "Content-Type, X-Secret", "header 'X-Secret' is not allowed"}}) {
            HttpCall preflight;
            preflight.method = "OPTIONS";
            preflight.target = "/hello/echo";
            preflight.contentLength = true;
            preflight.headers = {{"Origin", c.origin}, {"Access-Control-Request-Method", c.method}};
            if (!c.headers.empty())
                preflight.headers.push_back({"Access-Control-Request-Headers", c.headers});
            HttpResult r = http_->send(preflight);
            Poco::JSON::Object::Ptr envelope = assertHostError(r, 403, "CORS preflight refused");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), c.why, envelope->getValue<std::string>("error"));
            CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.has("Access-Control-Allow-Origin"));
            CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.has("Access-Control-Allow-Methods"));
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testBrowserPreflightWithoutContentLength() {
        // Exactly what a browser sends: no Content-Length, no body, connection kept open.
        const std::string preflight =
            "OPTIONS /hello/echo HTTP/1.1\r\nHost: e2e\r\nOrigin: " + std::string(kAppOrigin) +
            "\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n"
            "Connection: close\r\n\r\n";
        HttpResult r;
        try {
            r = HttpProbe(berthd_->port(), 2000).raw(preflight);
        } catch (const Poco::TimeoutException&) {
            CPPUNIT_FAIL(
                "no answer within 2 s to a browser's CORS preflight (OPTIONS without Content-Length)");
        }
        E2E_ASSERT_STATUS(204, r);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string(kAppOrigin),
                                     r.header("Access-Control-Allow-Origin"));
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testCorsOffWhenNoOriginConfigured() {
        BerthdProcess plain;
        plain.addHelloPlugin();
        plain.set("cors.allowed_origins", "");
        plain.start();
        HttpProbe http(plain.port());
        HttpResult r = http.get("/hello/greet/x", {{"Origin", kAppOrigin}});
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.has("Access-Control-Allow-Origin"));
        // A would-be preflight is just an OPTIONS request.
        HttpCall preflight;
        preflight.method = "OPTIONS";
        preflight.target = "/hello/greet/x";
        preflight.contentLength = true;
        preflight.headers = {{"Origin", kAppOrigin}, {"Access-Control-Request-Method", "GET"}};
        HttpResult options = http.send(preflight);
        E2E_ASSERT_STATUS(204, options);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(options.describe(), std::string("GET, HEAD, OPTIONS"),
                                     options.header("Allow"));
        CPPUNIT_ASSERT_MESSAGE(options.describe(), !options.has("Access-Control-Allow-Origin"));
        CPPUNIT_ASSERT_MESSAGE(options.describe(), !options.has("Access-Control-Allow-Methods"));
    }

    void testCorsHeadersOnLimitRefusals() {
        // Without Access-Control-Allow-Origin the browser hides the 413/431 envelope from the
        // page, which then sees only an opaque network error.
        HttpResult tooLarge = http_->post("/hello/echo", jsonOfSize(kMaxBody + 1), "application/json",
                                          {{"Origin", kAppOrigin}});
        assertHostError(tooLarge, 413, "request body too large");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(tooLarge.describe(), std::string(kAppOrigin),
                                     tooLarge.header("Access-Control-Allow-Origin"));

        std::string nine = "Origin: " + std::string(kAppOrigin) + "\r\n";
        for (int i = 0; i < kMaxHeaderCount - 2; ++i) nine += "X-H" + std::to_string(i) + ": v\r\n";
        HttpResult tooMany = http_->raw(requestWithHeaders(nine));
        assertHostError(tooMany, 431, "request header fields too large");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(tooMany.describe(), std::string(kAppOrigin),
                                     tooMany.header("Access-Control-Allow-Origin"));
    }

    void testBodyOverLimitWithContentLengthIs413() {
        HttpResult atLimit = http_->post("/hello/echo", jsonOfSize(kMaxBody));
        E2E_ASSERT_STATUS(200, atLimit);
        for (std::size_t size : {kMaxBody + 1, std::size_t(4000)}) {
            HttpResult r =
                http_->post("/hello/echo", jsonOfSize(size), "application/json", {{"X-Request-Id", "big-1"}});
            Poco::JSON::Object::Ptr envelope = assertHostError(r, 413, "request body too large");
            CPPUNIT_ASSERT_EQUAL(std::string("big-1"), envelope->getValue<std::string>("request_id"));
            E2E_ASSERT_CONTAINS(envelope->getValue<std::string>("error"), std::to_string(kMaxBody));
            E2E_ASSERT_HEALTHY(berthd_->port());
        }
        // The limit holds on routes that never read the body, too.
        HttpCall put;
        put.method = "POST";
        put.target = "/hello/greet/x";
        put.body = std::string(kMaxBody + 1, 'x');
        assertHostError(http_->send(put), 413, "request body too large");
        E2E_ASSERT_STATUS(200, http_->post("/hello/echo", "[1,2,3]"));
    }

    void testChunkedBodyOverLimitIs413() {
        HttpCall call;
        call.method = "POST";
        call.target = "/hello/echo";
        call.contentType = "application/json";
        call.chunked = true;
        call.body = jsonOfSize(kMaxBody);
        HttpResult atLimit = http_->send(call);
        E2E_ASSERT_STATUS(200, atLimit);
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":)") + call.body + "}", atLimit.body);
        for (std::size_t size : {kMaxBody + 1, std::size_t(4000)}) {
            call.body = jsonOfSize(size);
            assertHostError(http_->send(call), 413, "request body too large");
            E2E_ASSERT_HEALTHY(berthd_->port());
        }
    }

    void testTooManyHeadersIs431() {
        // Host and Connection, plus 8 more: exactly the limit of 10.
        std::string eight;
        for (int i = 0; i < kMaxHeaderCount - 2; ++i) eight += "X-H" + std::to_string(i) + ": v\r\n";
        HttpResult atLimit = http_->raw(requestWithHeaders(eight));
        E2E_ASSERT_STATUS(200, atLimit);

        HttpResult over = http_->raw(requestWithHeaders(eight + "X-Request-Id: many-1\r\n"));
        Poco::JSON::Object::Ptr envelope = assertHostError(over, 431, "request header fields too large");
        CPPUNIT_ASSERT_EQUAL(std::string("many-1"), envelope->getValue<std::string>("request_id"));

        std::string fifty;
        for (int i = 0; i < 50; ++i) fifty += "X-H" + std::to_string(i) + ": v\r\n";
        assertHostError(http_->raw(requestWithHeaders(fifty)), 431, "request header fields too large");
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testTooManyHeaderBytesIs431() {
        // Counted as name + value + 4 per header: Host 11, Connection 19, X-Pad 9 + value.
        const int fixed = 11 + 19 + 9;
        HttpResult atLimit =
            http_->raw(requestWithHeaders("X-Pad: " + std::string(kMaxHeaderBytes - fixed, 'p') + "\r\n"));
        E2E_ASSERT_STATUS(200, atLimit);

        HttpResult over = http_->raw(
            requestWithHeaders("X-Pad: " + std::string(kMaxHeaderBytes - fixed + 1, 'p') + "\r\n"));
        assertHostError(over, 431, "request header fields too large");

        // Spread over several headers, below the count limit.
        std::string spread;
        for (int i = 0; i < 4; ++i)
            spread += "X-P" + std::to_string(i) + ": " + std::string(150, 'p') + "\r\n";
        assertHostError(http_->raw(requestWithHeaders(spread)), 431, "request header fields too large");
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MiddlewareTest);

}  // namespace berth::test
