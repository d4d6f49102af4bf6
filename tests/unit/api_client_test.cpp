// berth/testing.h's ApiClient and ApiResult against a MockService (a real HTTP server on
// 127.0.0.1): route patterns filled in and percent-encoded, query, headers and bodies on the wire,
// the envelope read back, and the clear failures: a missing or unknown path parameter, an answer
// that is not JSON, a server that does not answer.
#include <cppunit/Exception.h>
#include <cppunit/extensions/HelperMacros.h>

#include <stdexcept>

#include "berth/testing.h"

using berth::Json;
using berth::testing::ApiClient;
using berth::testing::ApiResult;
using berth::testing::MockCall;
using berth::testing::MockService;

class ApiClientTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ApiClientTest);
    CPPUNIT_TEST(testTargetFillsAndEncodes);
    CPPUNIT_TEST(testBadPathParametersThrow);
    CPPUNIT_TEST(testCallCarriesEverything);
    CPPUNIT_TEST(testRawBody);
    CPPUNIT_TEST(testNonJsonAnswerFailsClearly);
    CPPUNIT_TEST(testEnvelopeWithoutDataFailsClearly);
    CPPUNIT_TEST(testNoAnswerThrows);
    CPPUNIT_TEST_SUITE_END();

  public:
    template <class F>
    static std::string failureOf(F call) {
        try {
            call();
        } catch (const std::exception& e) {
            return e.what();
        }
        CPPUNIT_FAIL("expected an exception");
        return "";
    }

    void testTargetFillsAndEncodes() {
        CPPUNIT_ASSERT_EQUAL(std::string("/visits/visit_tasks/7"),
                             ApiClient::target("/visits/visit_tasks/<id>", {{"id", 7}}));
        CPPUNIT_ASSERT_EQUAL(std::string("/a/x%20y%2Fz%3F%23/b/-1"),
                             ApiClient::target("/a/<name:str>/b/<n:int>", {{"n", -1}, {"name", "x y/z?#"}}));
        CPPUNIT_ASSERT_EQUAL(std::string("/u/%C3%A9t%C3%A9"), ApiClient::target("/u/<w>", {{"w", "été"}}));
        CPPUNIT_ASSERT_EQUAL(std::string("/l?q=a%26b%3Dc%2B&n=5&empty="),
                             ApiClient::target("/l", {}, {{"q", "a&b=c+"}, {"n", 5}, {"empty", ""}}));
        CPPUNIT_ASSERT_EQUAL(std::string("/l?fixed=1&n=2"), ApiClient::target("/l?fixed=1", {}, {{"n", 2}}));
    }

    void testBadPathParametersThrow() {
        auto missing = failureOf([] { ApiClient::target("/visits/visit_tasks/<id>", {{"ids", 7}}); });
        CPPUNIT_ASSERT_MESSAGE(missing,
                               missing.find("/visits/visit_tasks/<id>: needs the path parameter 'id' "
                                            "(path parameters given: 'ids')") != std::string::npos);
        auto unknown = failureOf([] { ApiClient::target("/t/<id>", {{"id", 1}, {"extra", 2}}); });
        CPPUNIT_ASSERT_MESSAGE(
            unknown, unknown.find("path parameter 'extra' is not in the path") != std::string::npos);
        auto unclosed = failureOf([] { ApiClient::target("/t/<id", {{"id", 1}}); });
        CPPUNIT_ASSERT_MESSAGE(unclosed, unclosed.find("'<' without '>'") != std::string::npos);
        CPPUNIT_ASSERT_THROW(ApiClient(1).get("/t/<id>"), std::invalid_argument);  // before any connection
    }

    void testCallCarriesEverything() {
        MockService mock;
        mock.put("/things/7/x%20y",
                 Json::object(
                     {{"status", true}, {"code", 0}, {"message", "ok"}, {"data", Json::object({{"id", 7}})}}))
            .status(201)
            .header("Location", "/things/7");
        ApiClient api(mock.port());
        ApiResult r = api.put("/things/<id>/<name>", {{"id", 7}, {"name", "x y"}}, Json::object({{"a", 1}}),
                              {{"q", "x y"}, {"n", 2}}, {{"X-Request-Id", "abc"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201, r.status());
        CPPUNIT_ASSERT(r.isJson());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), r.data()["id"].asInt());
        CPPUNIT_ASSERT_EQUAL(0, r.code());
        CPPUNIT_ASSERT_EQUAL(std::string("ok"), r.message());
        CPPUNIT_ASSERT(r.error().isNull());
        CPPUNIT_ASSERT_EQUAL(std::string("/things/7"), r.header("location"));
        CPPUNIT_ASSERT(r.describe().find("PUT /things/7/x%20y?q=x%20y&n=2 → 201") == 0);

        MockCall call = mock.received().at(0);
        CPPUNIT_ASSERT_EQUAL(std::string("PUT"), call.method);
        CPPUNIT_ASSERT_EQUAL(std::string("q=x%20y&n=2"), call.query);
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), call.header("X-Request-Id"));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"a":1})"), call.body);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), call.header("Content-Type"));
    }

    void testRawBody() {
        MockService mock;
        mock.post("/raw").status(400);
        ApiResult r = ApiClient(mock.port()).send("POST", "/raw", {}, {}, {}, "{not json", "text/plain");
        CPPUNIT_ASSERT_EQUAL(400, r.status());
        CPPUNIT_ASSERT_EQUAL(std::string("{not json"), mock.received().at(0).body);
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain"), mock.received().at(0).header("Content-Type"));
    }

    void testNonJsonAnswerFailsClearly() {
        MockService mock;
        mock.get("/metrics").body("# HELP up 1 when up.\nup 1\n", "text/plain; version=0.0.4");
        ApiResult r = ApiClient(mock.port()).get("/metrics");
        CPPUNIT_ASSERT_EQUAL(200, r.status());
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP up 1 when up.\nup 1\n"), r.body());
        CPPUNIT_ASSERT(!r.isJson());
        std::string failure;
        try {
            r.data();
        } catch (const CppUnit::Exception& e) {  // a test failure, not a crash
            failure = e.what();
        }
        CPPUNIT_ASSERT_MESSAGE(
            failure,
            failure.find("GET /metrics answered 200 with a body that is not JSON") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(failure, failure.find("up 1") != std::string::npos);  // the body is shown
    }

    void testEnvelopeWithoutDataFailsClearly() {
        MockService mock;
        mock.get("/gone").status(404).json(
            Json::object({{"status", false}, {"code", 40401}, {"message", "not found"}}));
        ApiResult r = ApiClient(mock.port()).get("/gone");
        CPPUNIT_ASSERT_EQUAL(40401, r.code());
        CPPUNIT_ASSERT_THROW(r.data(), CppUnit::Exception);
    }

    void testNoAnswerThrows() {
        int port = 0;
        {
            MockService gone;
            port = gone.port();
        }
        std::string failure = failureOf([port] { ApiClient(port).get("/health"); });
        CPPUNIT_ASSERT_MESSAGE(
            failure, failure.find("GET /health: no answer from 127.0.0.1:" + std::to_string(port)) == 0);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ApiClientTest);
