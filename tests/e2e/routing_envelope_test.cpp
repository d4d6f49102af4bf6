// The hello plugin served by a real berthd: routing, path parameters, JSON bodies, and the
// success and error envelopes for plugin and host errors. After each error case the host must
// still answer /health.
#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <sstream>
#include <string>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "http_probe.h"

namespace berth::test {
namespace {

std::string ok(const std::string& data) {
    return R"({"status":true,"code":0,"message":"ok","data":)" + data + "}";
}

/// The same JSON value written canonically (object members sorted), for comparing documents.
std::string canonicalJson(const Poco::Dynamic::Var& value) {
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(value, out);
    return out.str();
}

std::string canonicalJson(const std::string& text) {
    Poco::JSON::Parser parser;
    return canonicalJson(parser.parse(text));
}

/// An error envelope: exactly its five members, status false, the given code and message, and
/// request_id equal to the X-Request-Id response header.
Poco::JSON::Object::Ptr assertErrorEnvelope(const HttpResult& r, int code, const std::string& message) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("application/json"), r.header("Content-Type"));
    Poco::JSON::Object::Ptr envelope = r.json();
    E2E_ASSERT_KEYS(envelope, "status", "code", "message", "error", "request_id");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), false, envelope->getValue<bool>("status"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), code, envelope->getValue<int>("code"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), message, envelope->getValue<std::string>("message"));
    CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.header("X-Request-Id").empty());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), r.header("X-Request-Id"),
                                 envelope->getValue<std::string>("request_id"));
    return envelope;
}

std::string rawRequest(const std::string& requestLine, const std::string& extraHeaders = "") {
    return requestLine + "\r\nHost: e2e\r\nConnection: close\r\n" + extraHeaders + "\r\n";
}

}  // namespace

class RoutingEnvelopeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RoutingEnvelopeTest);
    CPPUNIT_TEST(testGreet);
    CPPUNIT_TEST(testGreetDecodesPercentEncodedName);
    CPPUNIT_TEST(testGreetingFromPluginSettings);
    CPPUNIT_TEST(testEchoRoundTripsJson);
    CPPUNIT_TEST(testInvalidJsonBodyIs400);
    CPPUNIT_TEST(testApiErrorEnvelope);
    CPPUNIT_TEST(testUnexpectedExceptionIs500WithDetailOnlyInLog);
    CPPUNIT_TEST(testUnknownRouteIs404);
    CPPUNIT_TEST(testWrongMethodIs405WithAllow);
    CPPUNIT_TEST(testUnknownMethodIs405);
    CPPUNIT_TEST(testOptionsAnswers204WithAllow);
    CPPUNIT_TEST(testRequestWithoutContentLengthIsAnsweredAtOnce);
    CPPUNIT_TEST(testIntPathParameter);
    CPPUNIT_TEST(testIntPathParameterOverflowIs400);
    CPPUNIT_TEST(testBadPercentEncodingIs400);
    CPPUNIT_TEST(testHeadHasHeadersButNoBody);
    CPPUNIT_TEST(testMalformedRequestDoesNotKillHost);
    CPPUNIT_TEST(testHealthEndpoint);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addHelloPlugin();
        // The settings file that ships (greeting = Hello), as the docs say.
        berthd_->writePluginSettings(
            "hello", readFile(std::string(BERTH_SOURCE_DIR) + "/conf/plugins.d/hello.properties"));
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port());
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
    }

    void testGreet() {
        HttpResult r = http_->get("/hello/greet/bob");
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), r.header("Content-Type"));
        CPPUNIT_ASSERT_EQUAL(ok(R"({"greeting":"Hello, bob!"})"), r.body);
        // A query string is not part of the path.
        HttpResult query = http_->get("/hello/greet/bob?x=1&y=%20");
        E2E_ASSERT_STATUS(200, query);
        CPPUNIT_ASSERT_EQUAL(ok(R"({"greeting":"Hello, bob!"})"), query.body);
    }

    void testGreetDecodesPercentEncodedName() {
        HttpResult r = http_->get("/hello/greet/b%C3%B8b");
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, b\xC3\xB8"
                                         "b!"),
                             r.json()->getObject("data")->getValue<std::string>("greeting"));
        HttpResult space = http_->get("/hello/greet/a%20b");
        E2E_ASSERT_STATUS(200, space);
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, a b!"),
                             space.json()->getObject("data")->getValue<std::string>("greeting"));
        // In a path '+' is a plus, not a space (that is a query-string convention).
        HttpResult plus = http_->get("/hello/greet/a+b");
        E2E_ASSERT_STATUS(200, plus);
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, a+b!"),
                             plus.json()->getObject("data")->getValue<std::string>("greeting"));
        // A quote in the name must come back as valid JSON.
        HttpResult quote = http_->get("/hello/greet/%22q%22");
        E2E_ASSERT_STATUS(200, quote);
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, \"q\"!"),
                             quote.json()->getObject("data")->getValue<std::string>("greeting"));
    }

    void testGreetingFromPluginSettings() {
        BerthdProcess howdy;
        howdy.addHelloPlugin();
        howdy.writePluginSettings("hello", "greeting = Howdy\n");
        howdy.start();
        HttpResult r = HttpProbe(howdy.port()).get("/hello/greet/b%C3%B8b");
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(ok(R"({"greeting":"Howdy, b)"
                                "\xC3\xB8"
                                R"(b!"})"),
                             r.body);
        E2E_ASSERT_CONTAINS(howdy.log(), "greeting is 'Howdy'");
    }

    void testEchoRoundTripsJson() {
        const std::string document =
            R"({"name":"b\u00f8b","n":-12,"big":9007199254740993,"pi":3.25,"ok":true,"none":null,)"
            R"("list":[1,"two",[3],{"four":4}],"nested":{"a":{"b":{"c":"deep"}}},"empty":{},"quote":"\"\\/\n"})";
        HttpResult r = http_->post("/hello/echo", document);
        E2E_ASSERT_STATUS(200, r);
        Poco::JSON::Object::Ptr envelope = r.json();
        E2E_ASSERT_KEYS(envelope, "status", "code", "message", "data");
        CPPUNIT_ASSERT_EQUAL(true, envelope->getValue<bool>("status"));
        CPPUNIT_ASSERT_EQUAL(0, envelope->getValue<int>("code"));
        CPPUNIT_ASSERT_EQUAL(std::string("ok"), envelope->getValue<std::string>("message"));
        CPPUNIT_ASSERT_EQUAL(canonicalJson(document), canonicalJson(envelope->get("data")));
        E2E_ASSERT_CONTAINS(r.body, "9007199254740993");  // not rounded through a double

        for (const char* other : {"[1,\"two\",null]", "\"just a string\"", "42", "null", "{}"}) {
            HttpResult echoed = http_->post("/hello/echo", other);
            E2E_ASSERT_STATUS(200, echoed);
            CPPUNIT_ASSERT_EQUAL(ok(other), echoed.body);  // Poco's parser takes no top-level scalar
        }
    }

    void testInvalidJsonBodyIs400() {
        for (const char* body : {"{\"a\":", "{'a':1}", "not json", "", "{\"a\":1} trailing", "[1,]"}) {
            HttpResult r = http_->post("/hello/echo", body);
            E2E_ASSERT_STATUS(400, r);
            Poco::JSON::Object::Ptr envelope = assertErrorEnvelope(r, 400, "invalid JSON body");
            CPPUNIT_ASSERT_MESSAGE(r.describe(), !envelope->isNull("error"));
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testApiErrorEnvelope() {
        HttpResult r = http_->get("/hello/error", {{"X-Request-Id", "api-error-1"}});
        E2E_ASSERT_STATUS(422, r);
        Poco::JSON::Object::Ptr envelope = assertErrorEnvelope(r, 42201, "cannot greet nobody");
        CPPUNIT_ASSERT_EQUAL(std::string("demo of an ApiError: the caller sees this"),
                             envelope->getValue<std::string>("error"));
        CPPUNIT_ASSERT_EQUAL(std::string("api-error-1"), envelope->getValue<std::string>("request_id"));
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testUnexpectedExceptionIs500WithDetailOnlyInLog() {
        const std::string detail = "demo of an unexpected exception: only the log sees this";
        HttpResult r = http_->get("/hello/crash", {{"X-Request-Id", "crash-1"}});
        E2E_ASSERT_STATUS(500, r);
        Poco::JSON::Object::Ptr envelope = assertErrorEnvelope(r, 500, "internal server error");
        CPPUNIT_ASSERT_MESSAGE(r.describe(), envelope->isNull("error"));
        E2E_ASSERT_NOT_CONTAINS(r.describe(), "unexpected exception");
        E2E_ASSERT_NOT_CONTAINS(r.describe(), "only the log");
        CPPUNIT_ASSERT_MESSAGE("the detail never reached the log:\n" + berthd_->log(),
                               berthd_->waitForLog(detail));
        // The log line ties the detail to the request.
        E2E_ASSERT_LINE_WITH(berthd_->log(), "crash-1", "/hello/crash", detail);
        E2E_ASSERT_HEALTHY(berthd_->port());
        // And again: a crashing handler does not poison later requests.
        E2E_ASSERT_STATUS(500, http_->get("/hello/crash"));
        E2E_ASSERT_STATUS(200, http_->get("/hello/greet/after"));
    }

    void testUnknownRouteIs404() {
        for (const char* path : {"/nope", "/hello", "/hello/", "/hello/nope", "/hello/greet", "/hello/greet/",
                                 "/hello/greet/a/b", "/hellox/greet/a", "/hello/numbers/abc", "/"}) {
            HttpResult r = http_->get(path);
            E2E_ASSERT_STATUS(404, r);
            assertErrorEnvelope(r, 404, "not found");
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testWrongMethodIs405WithAllow() {
        struct Case {
            const char* method;
            const char* path;
            const char* allow;
        };
        for (const Case& c :
             {Case{"POST", "/hello/greet/x", "GET, HEAD, OPTIONS"},
              Case{"DELETE", "/hello/greet/x", "GET, HEAD, OPTIONS"},
              Case{"GET", "/hello/echo", "POST, OPTIONS"}, Case{"PUT", "/hello/echo", "POST, OPTIONS"},
              Case{"DELETE", "/health", "GET, HEAD, OPTIONS"},
              Case{"POST", "/plugins", "GET, HEAD, OPTIONS"}}) {
            HttpCall call;
            call.method = c.method;
            call.target = c.path;
            HttpResult r = http_->send(call);
            E2E_ASSERT_STATUS(405, r);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string(c.allow), r.header("Allow"));
            assertErrorEnvelope(r, 405, "method not allowed");
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testUnknownMethodIs405() {
        HttpResult r = http_->raw(rawRequest("BREW /hello/greet/x HTTP/1.1", "Content-Length: 0\r\n"));
        E2E_ASSERT_STATUS(405, r);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("GET, HEAD, OPTIONS"), r.header("Allow"));
        assertErrorEnvelope(r, 405, "method not allowed");
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testOptionsAnswers204WithAllow() {
        for (const auto& [path, allow] :
             {std::pair<std::string, std::string>{"/hello/greet/x", "GET, HEAD, OPTIONS"},
              {"/hello/echo", "POST, OPTIONS"},
              {"/health", "GET, HEAD, OPTIONS"}}) {
            HttpResult r = http_->raw(rawRequest("OPTIONS " + path + " HTTP/1.1", "Content-Length: 0\r\n"));
            E2E_ASSERT_STATUS(204, r);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), allow, r.header("Allow"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string(), r.body);
        }
        HttpCall unknown;
        unknown.method = "OPTIONS";
        unknown.target = "/nope";
        unknown.contentLength = true;
        E2E_ASSERT_STATUS(404, http_->send(unknown));
    }

    void testRequestWithoutContentLengthIsAnsweredAtOnce() {
        // RFC 9112 6.3: a request with neither Content-Length nor Transfer-Encoding has no
        // body. curl sends "-X OPTIONS" and an empty "-X POST" like this, browsers their
        // preflights. The answer must not wait for the client to close the connection.
        struct Case {
            std::string requestLine;
            int status;
        };
        HttpProbe impatient(berthd_->port(), 2000);
        for (const Case& c :
             {Case{"OPTIONS /hello/greet/x HTTP/1.1", 204}, Case{"OPTIONS /health HTTP/1.1", 204},
              Case{"POST /hello/echo HTTP/1.1", 400}, Case{"BREW /hello/greet/x HTTP/1.1", 405}}) {
            HttpResult r;
            try {
                r = impatient.raw(rawRequest(c.requestLine));
            } catch (const Poco::TimeoutException&) {
                CPPUNIT_FAIL("no answer within 2 s to '" + c.requestLine +
                             "' without Content-Length: berthd waits for a body that is not coming");
            }
            E2E_ASSERT_STATUS(c.status, r);
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testIntPathParameter() {
        for (const auto& [path, n] : {std::pair<std::string, std::string>{"/hello/numbers/42", "42"},
                                      {"/hello/numbers/0", "0"},
                                      {"/hello/numbers/-7", "-7"},
                                      {"/hello/numbers/9223372036854775807", "9223372036854775807"},
                                      {"/hello/numbers/-9223372036854775808", "-9223372036854775808"}}) {
            HttpResult r = http_->get(path);
            E2E_ASSERT_STATUS(200, r);
            CPPUNIT_ASSERT_EQUAL(ok(R"({"n":)" + n + "}"), r.body);
        }
    }

    void testIntPathParameterOverflowIs400() {
        for (const char* path : {"/hello/numbers/99999999999999999999", "/hello/numbers/9223372036854775808",
                                 "/hello/numbers/-9223372036854775809"}) {
            HttpResult r = http_->get(path);
            E2E_ASSERT_STATUS(400, r);
            Poco::JSON::Object::Ptr envelope = assertErrorEnvelope(r, 400, "bad request");
            E2E_ASSERT_CONTAINS(envelope->getValue<std::string>("error"), "64 bits");
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testBadPercentEncodingIs400() {
        for (const char* path : {"/hello/greet/%zz", "/hello/greet/%4", "/hello/greet/abc%",
                                 "/hello/greet/%00", "/hello/%zz/x"}) {
            HttpResult r = http_->get(path);
            E2E_ASSERT_STATUS(400, r);
            Poco::JSON::Object::Ptr envelope = assertErrorEnvelope(r, 400, "bad request");
            E2E_ASSERT_CONTAINS(envelope->getValue<std::string>("error"), "percent-encoding");
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testHeadHasHeadersButNoBody() {
        // HTTPClientSession never reads a HEAD body, so look at the bytes on the wire.
        HttpResult get = http_->get("/hello/greet/x");
        for (const std::string& path : {std::string("/hello/greet/x"), std::string("/health")}) {
            HttpResult head = http_->raw(rawRequest("HEAD " + path + " HTTP/1.1"));
            E2E_ASSERT_STATUS(200, head);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(head.describe(), std::string(), head.body);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(head.describe(), std::string("application/json"),
                                         head.header("Content-Type"));
            CPPUNIT_ASSERT_MESSAGE(head.describe(), !head.header("X-Request-Id").empty());
        }
        HttpResult head = http_->raw(rawRequest("HEAD /hello/greet/x HTTP/1.1"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(head.describe(), std::to_string(get.body.size()),
                                     head.header("Content-Length"));
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testMalformedRequestDoesNotKillHost() {
        for (const std::string& garbage :
             {std::string("GARBAGE\r\n\r\n"), std::string("GET /hello/greet/x HTTP/9.9\r\n\r\n"),
              std::string("GET /hello/greet/x HTTP/1.1\r\nNo colon here\r\n\r\n"),
              std::string("\x01\x02\x03\xff\r\n\r\n", 8)}) {
            try {
                HttpResult r = http_->raw(garbage);
                CPPUNIT_ASSERT_MESSAGE(r.describe(), r.status >= 400 && r.status < 500);
            } catch (const std::exception&) {
                // Closing the connection without an answer is acceptable too.
            }
            E2E_ASSERT_HEALTHY(berthd_->port());
        }
        // A request that stops halfway, then disconnects.
        {
            Poco::Net::StreamSocket socket(
                Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(berthd_->port())));
            std::string half = "POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: 100\r\n\r\n{\"a\":";
            socket.sendBytes(half.data(), static_cast<int>(half.size()));
            socket.close();
        }
        E2E_ASSERT_HEALTHY(berthd_->port());
        E2E_ASSERT_STATUS(200, http_->get("/hello/greet/still-here"));
    }

    void testHealthEndpoint() {
        E2E_ASSERT_HEALTHY(berthd_->port());
        HttpResult r = http_->get("/health");
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), r.header("Content-Type"));
        E2E_ASSERT_STATUS(404, http_->get("/health/extra"));
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(RoutingEnvelopeTest);

}  // namespace berth::test
