// HttpPipeline::handle end to end without a network: request ids, header limits, CORS, host
// endpoints, routing outcomes, and how a handler's reply or exception becomes the response; with a
// request tracer, the trace id in error envelopes and the tracestate the handler passes on.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>

#include <cctype>
#include <limits>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "berth/error.h"
#include "http/pipeline.h"
#include "test_helpers.h"
#include "trace/request_tracer.h"
#include "trace/trace_state.h"

using berth::ApiError;
using berth::Json;
using berth::Method;
using berth::Reply;
using berth::Request;
using berth::server::CorsPolicy;
using berth::server::CorsSettings;
using berth::server::HostRequest;
using berth::server::HttpLimits;
using berth::server::HttpPipeline;
using berth::server::HttpResponse;
using berth::server::PluginRoutes;
using berth::server::RouteTable;
using berth::test::CaptureChannel;
using berth::test::contains;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Call {
    Call(Method m, std::string t, Headers h = {}, std::string b = {})
        : method(m), target(std::move(t)), headers(std::move(h)), body(std::move(b)) {}
    Method method;
    std::string target;
    Headers headers;
    std::string body;
};

std::string headerOf(const HttpResponse& response, const std::string& name) {
    for (const auto& [n, v] : response.headers)
        if (n == name) return v;
    return "<absent>";
}

std::size_t countHeader(const HttpResponse& response, const std::string& name) {
    std::size_t n = 0;
    for (const auto& header : response.headers)
        if (header.first == name) ++n;
    return n;
}

bool isGeneratedId(const std::string& id) {
    if (id.size() != 32) return false;
    for (char c : id)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string errorBody(int code, const std::string& message, const Json& error, const std::string& requestId) {
    return Json::object({{"status", false},
                         {"code", code},
                         {"message", message},
                         {"error", error},
                         {"request_id", requestId}})
        .dump();
}

}  // namespace

class PipelineTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PipelineTest);
    CPPUNIT_TEST(testFoundEnvelope);
    CPPUNIT_TEST(testRequestIdKept);
    CPPUNIT_TEST(testInsaneRequestIdReplaced);
    CPPUNIT_TEST(testRequestIdGeneratedPerRequest);
    CPPUNIT_TEST(testHeaderCountLimit);
    CPPUNIT_TEST(testHeaderBytesLimit);
    CPPUNIT_TEST(testNotFound);
    CPPUNIT_TEST(testEachMethodReachesItsRoute);
    CPPUNIT_TEST(testMethodNotAllowed);
    CPPUNIT_TEST(testOptionsOnRoute);
    CPPUNIT_TEST(testHeadOnGetRoute);
    CPPUNIT_TEST(testBadEncoding);
    CPPUNIT_TEST(testIntOutOfRange);
    CPPUNIT_TEST(testIntEdgeFits);
    CPPUNIT_TEST(testParamsDecoded);
    CPPUNIT_TEST(testApiError);
    CPPUNIT_TEST(testApiErrorWithNonErrorStatusIs500);
    CPPUNIT_TEST(testRuntimeErrorIs500WithoutDetail);
    CPPUNIT_TEST(testNonStandardExceptionIs500);
    CPPUNIT_TEST(testReplyStatus500Is500);
    CPPUNIT_TEST(testReplyNon2xxStatusIs500);
    CPPUNIT_TEST(testCreatedAndNoContent);
    CPPUNIT_TEST(testRawReply);
    CPPUNIT_TEST(testRawRedirectAllowedRawErrorNot);
    CPPUNIT_TEST(testReplyHeadersHostOwnedDropped);
    CPPUNIT_TEST(testQueryThroughPipeline);
    CPPUNIT_TEST(testJsonBody);
    CPPUNIT_TEST(testInvalidJsonBodyIs400);
    CPPUNIT_TEST(testHostEndpoint);
    CPPUNIT_TEST(testHostEndpointMethods);
    CPPUNIT_TEST(testHostEndpointExactPathOnly);
    CPPUNIT_TEST(testBlockingHostEndpointIsLeftToAWorker);
    CPPUNIT_TEST(testBlockingHostEndpointMethods);
    CPPUNIT_TEST(testCorsActualRequest);
    CPPUNIT_TEST(testCorsOnErrors);
    CPPUNIT_TEST(testCorsDisallowedOrigin);
    CPPUNIT_TEST(testCorsDisabled);
    CPPUNIT_TEST(testVaryOriginOnEveryCorsResponse);
    CPPUNIT_TEST(testPreflightAnswered);
    CPPUNIT_TEST(testPreflightRefused);
    CPPUNIT_TEST(testPreflightWithoutCorsIsPlainOptions);
    CPPUNIT_TEST(testReject);
    CPPUNIT_TEST(testTracedErrorsNameTheirTrace);
    CPPUNIT_TEST(testUntracedErrorsHaveNoTraceId);
    CPPUNIT_TEST(testTraceStateWhileTheHandlerRuns);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        log_ = new CaptureChannel;
        logger_ = &Poco::Logger::get("unit.pipeline");
        logger_->setChannel(
            Poco::AutoPtr<Poco::Channel>(log_.get(), true));  // shared: log_ keeps its reference
        logger_->setLevel(Poco::Message::PRIO_DEBUG);

        PluginRoutes routes;
        routes.get("/greet/<name>", [](const Request& r) -> Reply {
            return Json::object({{"greeting", "hi " + r.param("name")}});
        });
        routes.get("/numbers/<n:int>", [](const Request& r) -> Reply {
            return Json::object({{"n", r.paramInt("n")}});
        });
        routes.post("/echo", [](const Request& r) -> Reply { return r.json(); });
        // One path, every method: the handler that runs says which route it is.
        routes.get("/item", [](const Request&) -> Reply { return Json("get"); });
        routes.post("/item", [](const Request&) -> Reply { return Json("post"); });
        routes.put("/item", [](const Request&) -> Reply { return Json("put"); });
        routes.patch("/item", [](const Request&) -> Reply { return Json("patch"); });
        routes.del("/item", [](const Request&) -> Reply { return Json("delete"); });
        routes.get("/query", [](const Request& r) -> Reply {
            auto v = r.query("q");
            return v ? Json(*v) : Json();
        });
        routes.get("/reqid", [](const Request& r) -> Reply { return Json(r.requestId()); });
        routes.get("/tracestate", [](const Request&) -> Reply {
            return Json(std::string(berth::server::currentTraceState()));
        });
        routes.get("/error", [](const Request&) -> Reply {
            throw ApiError(422, 42201, "cannot greet \"nobody\"", Json::object({{"field", "name"}}));
        });
        routes.get("/api200",
                   [](const Request&) -> Reply { throw ApiError(200, 20001, "not an error status"); });
        routes.get("/api399", [](const Request&) -> Reply { throw ApiError(399, 39901, "redirect-ish"); });
        routes.get("/api600", [](const Request&) -> Reply { throw ApiError(600, 60001, "too big"); });
        routes.get("/api503",
                   [](const Request&) -> Reply { throw ApiError(503, 50301, "down", "retry later"); });
        routes.get("/crash", [](const Request&) -> Reply {
            throw std::runtime_error("secret: password=hunter2 at db.internal");
        });
        routes.get("/throw-int", [](const Request&) -> Reply { throw 42; });
        routes.get("/status500", [](const Request&) -> Reply { return Reply(Json("data")).status(500); });
        routes.get("/status302", [](const Request&) -> Reply { return Reply(Json("data")).status(302); });
        routes.get("/status199", [](const Request&) -> Reply { return Reply(Json("data")).status(199); });
        routes.post("/created", [](const Request&) -> Reply {
            return Reply::created(Json::object({{"id", 1}}));
        });
        routes.del("/gone", [](const Request&) -> Reply { return Reply::noContent(); });
        routes.get("/raw", [](const Request&) -> Reply {
            return Reply::raw("Hello, World!", "text/plain")
                .header("X-Custom", "yes")
                .header("Cache-Control", "no-store");
        });
        routes.get("/raw302", [](const Request&) -> Reply {
            return Reply::raw("", "text/plain").status(302).header("Location", "/elsewhere");
        });
        routes.get("/raw404", [](const Request&) -> Reply { return Reply::raw("nope").status(404); });
        routes.get("/owned", [](const Request&) -> Reply {
            return Reply(Json(1))
                .header("Content-Length", "999")
                .header("transfer-encoding", "chunked")
                .header("CONNECTION", "close")
                .header("Content-Type", "text/html")
                .header("X-Kept", "1");
        });
        table_ = std::make_unique<RouteTable>();
        table_->reserve("/health");
        CPPUNIT_ASSERT(!table_->mount("p", "/p", std::move(routes.routes())));
        limits_ = HttpLimits{};
        cors_ = CorsSettings{};
        build();
    }

    void tearDown() override {
        pipeline_.reset();
        table_.reset();
        logger_->setChannel(nullptr);
    }

    void testFoundEnvelope() {
        HttpResponse response = run({Method::Get, "/p/greet/bob"});
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), response.contentType);
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"greeting":"hi bob"}})"),
            response.body);
        CPPUNIT_ASSERT(isGeneratedId(std::string(response.requestId)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0),
                             countHeader(response, "X-Request-Id"));  // written once, by the response writer
    }

    void testRequestIdKept() {
        HttpResponse ok = run({Method::Get, "/p/reqid", {{"x-request-id", "client-42.a:b_c"}}});
        CPPUNIT_ASSERT_EQUAL(std::string("client-42.a:b_c"), std::string(ok.requestId));
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":"client-42.a:b_c"})"), ok.body);
        HttpResponse missing = run({Method::Get, "/nowhere", {{"X-Request-Id", "rid-1"}}});
        CPPUNIT_ASSERT_EQUAL(errorBody(404, "not found", "no route for /nowhere", "rid-1"), missing.body);
    }

    void testInsaneRequestIdReplaced() {
        for (const std::string& bad : {std::string("has space"), std::string("x\r\nSet-Cookie: a=b"),
                                       std::string(129, 'a'), std::string("")}) {
            HttpResponse response = run({Method::Get, "/p/reqid", {{"X-Request-Id", bad}}});
            std::string id = std::string(response.requestId);
            CPPUNIT_ASSERT_MESSAGE(bad, isGeneratedId(id));
            // The handler and the header agree on the generated id.
            CPPUNIT_ASSERT_EQUAL(Json(id).dump(), Json::parse(response.body)["data"].dump());
        }
    }

    void testRequestIdGeneratedPerRequest() {
        std::string a = std::string(run({Method::Get, "/p/greet/a"}).requestId);
        std::string b = std::string(run({Method::Get, "/p/greet/a"}).requestId);
        CPPUNIT_ASSERT(a != b);
        // In an error envelope, the generated id is the header's id.
        HttpResponse response = run({Method::Get, "/nowhere"});
        CPPUNIT_ASSERT_EQUAL(std::string(response.requestId),
                             Json::parse(response.body)["request_id"].asString());
    }

    void testHeaderCountLimit() {
        limits_.maxHeaderCount = 3;
        build();
        Call call{Method::Get, "/p/greet/a", {{"A", "1"}, {"B", "2"}, {"C", "3"}}};
        CPPUNIT_ASSERT_EQUAL(200, run(call).status);  // exactly at the limit
        call.headers.push_back({"X-Request-Id", "rid-431"});
        HttpResponse response = run(call);
        CPPUNIT_ASSERT_EQUAL(431, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), response.contentType);
        Json body = Json::parse(response.body);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(431), body["code"].asInt());
        CPPUNIT_ASSERT_EQUAL(std::string("request header fields too large"), body["message"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("rid-431"), body["request_id"].asString());
        CPPUNIT_ASSERT(contains(body["error"].asString(), "at most 3 headers"));
    }

    void testHeaderBytesLimit() {
        limits_.maxHeaderBytes = 100;
        build();
        // name + value + 4 (": " and CRLF) per field: 10 + 86 + 4 = 100 is at the limit.
        Call call{Method::Get, "/p/greet/a", {{"X-Filler-1", std::string(86, 'v')}}};
        CPPUNIT_ASSERT_EQUAL(200, run(call).status);
        call.headers[0].second += "v";
        CPPUNIT_ASSERT_EQUAL(431, run(call).status);
        // Two fields of 1 + 50 + 4 bytes: each alone fits, together they do not.
        Call many{Method::Get, "/p/greet/a", {{"A", std::string(50, 'x')}, {"B", std::string(50, 'x')}}};
        CPPUNIT_ASSERT_EQUAL(431, run(many).status);
    }

    void testEachMethodReachesItsRoute() {
        const std::pair<Method, const char*> cases[] = {{Method::Get, "get"},
                                                        {Method::Post, "post"},
                                                        {Method::Put, "put"},
                                                        {Method::Patch, "patch"},
                                                        {Method::Delete, "delete"}};
        for (const auto& [method, name] : cases) {
            HttpResponse response = run({method, "/p/item"});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, 200, response.status);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(
                name, std::string(R"({"status":true,"code":0,"message":"ok","data":")") + name + "\"}",
                response.body);
        }
    }

    void testNotFound() {
        HttpResponse response = run({Method::Get, "/nowhere", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(404, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), response.contentType);
        CPPUNIT_ASSERT_EQUAL(errorBody(404, "not found", "no route for /nowhere", "r"), response.body);
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/p/greet/bob/"}).status);  // trailing slash
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/p/greet/"}).status);
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/p//greet/bob"}).status);
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/"}).status);
    }

    void testMethodNotAllowed() {
        HttpResponse response = run({Method::Post, "/p/greet/bob", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(405, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), headerOf(response, "Allow"));
        CPPUNIT_ASSERT_EQUAL(errorBody(405, "method not allowed", "POST is not allowed on /p/greet/bob", "r"),
                             response.body);
        HttpResponse other = run({Method::Other, "/p/echo"});
        CPPUNIT_ASSERT_EQUAL(405, other.status);
        CPPUNIT_ASSERT_EQUAL(std::string("POST, OPTIONS"), headerOf(other, "Allow"));
    }

    void testOptionsOnRoute() {
        HttpResponse response = run({Method::Options, "/p/greet/bob"});
        CPPUNIT_ASSERT_EQUAL(204, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), headerOf(response, "Allow"));
        CPPUNIT_ASSERT(response.body.empty());
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Options, "/p/nothing"}).status);
    }

    void testHeadOnGetRoute() {
        HttpResponse response = run({Method::Head, "/p/greet/bob"});
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"greeting":"hi bob"}})"),
            response.body);  // the transport drops it; its length is still right
    }

    void testBadEncoding() {
        for (const char* target : {"/p/greet/%zz", "/p/greet/%00", "/p/greet/a%4", "/nowhere/%"}) {
            HttpResponse response = run({Method::Get, target, {{"X-Request-Id", "r"}}});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(target, 400, response.status);
            CPPUNIT_ASSERT_EQUAL(errorBody(400, "bad request", "the path has invalid percent-encoding", "r"),
                                 response.body);
        }
    }

    void testIntOutOfRange() {
        for (const char* target : {"/p/numbers/9223372036854775808", "/p/numbers/-9223372036854775809"}) {
            HttpResponse response = run({Method::Get, target, {{"X-Request-Id", "r"}}});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(target, 400, response.status);
            CPPUNIT_ASSERT_EQUAL(errorBody(400, "bad request",
                                           "a path parameter is not an integer that fits in 64 bits (route "
                                           "/numbers/<n:int>)",
                                           "r"),
                                 response.body);
        }
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/p/numbers/12x"}).status);
    }

    void testIntEdgeFits() {
        HttpResponse max = run({Method::Get, "/p/numbers/9223372036854775807"});
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"n":9223372036854775807}})"),
            max.body);
        HttpResponse min = run({Method::Get, "/p/numbers/-9223372036854775808"});
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"n":-9223372036854775808}})"),
            min.body);
    }

    void testParamsDecoded() {
        HttpResponse response = run({Method::Get, "/p/greet/a%20b%2Bc+d"});
        CPPUNIT_ASSERT_EQUAL(std::string("hi a b+c+d"),
                             Json::parse(response.body)["data"]["greeting"].asString());
        // Parameters of one request never leak into the next.
        run({Method::Get, "/p/greet/first"});
        HttpResponse second = run({Method::Get, "/p/greet/second"});
        CPPUNIT_ASSERT_EQUAL(std::string("hi second"),
                             Json::parse(second.body)["data"]["greeting"].asString());
    }

    void testApiError() {
        HttpResponse response = run({Method::Get, "/p/error", {{"X-Request-Id", "rid-1"}}});
        CPPUNIT_ASSERT_EQUAL(422, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), response.contentType);
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":42201,"message":"cannot greet \"nobody\"","error":{"field":"name"},"request_id":"rid-1"})"),
            response.body);
        HttpResponse down = run({Method::Get, "/p/api503", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(503, down.status);
        CPPUNIT_ASSERT_EQUAL(errorBody(50301, "down", "retry later", "r"), down.body);
    }

    void testApiErrorWithNonErrorStatusIs500() {
        for (const char* target : {"/p/api200", "/p/api399", "/p/api600"}) {
            HttpResponse response = run({Method::Get, target});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(target, 500, response.status);
            Json body = Json::parse(response.body);
            CPPUNIT_ASSERT_EQUAL(false, body["status"].asBool());
        }
        CPPUNIT_ASSERT(log_->contains("must be 400-599"));
    }

    void testRuntimeErrorIs500WithoutDetail() {
        HttpResponse response = run({Method::Get, "/p/crash", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(500, response.status);
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":500,"message":"internal server error","error":null,"request_id":"r"})"),
            response.body);
        CPPUNIT_ASSERT(!contains(response.body, "hunter2"));
        CPPUNIT_ASSERT(log_->contains("hunter2"));  // the detail goes to the log only
        CPPUNIT_ASSERT(log_->contains("[request_id=r]"));
    }

    void testNonStandardExceptionIs500() {
        HttpResponse response = run({Method::Get, "/p/throw-int", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(500, response.status);
        CPPUNIT_ASSERT_EQUAL(errorBody(500, "internal server error", nullptr, "r"), response.body);
    }

    void testReplyStatus500Is500() {
        HttpResponse response = run({Method::Get, "/p/status500", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(500, response.status);
        CPPUNIT_ASSERT_EQUAL(errorBody(500, "internal server error", nullptr, "r"), response.body);
        CPPUNIT_ASSERT(!contains(response.body, "data"));
        CPPUNIT_ASSERT(log_->contains("returned status 500"));
    }

    void testReplyNon2xxStatusIs500() {
        CPPUNIT_ASSERT_EQUAL(500,
                             run({Method::Get, "/p/status302"}).status);  // envelope replies are 2xx only
        CPPUNIT_ASSERT_EQUAL(500, run({Method::Get, "/p/status199"}).status);
    }

    void testCreatedAndNoContent() {
        HttpResponse created = run({Method::Post, "/p/created"});
        CPPUNIT_ASSERT_EQUAL(201, created.status);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":{"id":1}})"),
                             created.body);
        HttpResponse gone = run({Method::Delete, "/p/gone"});
        CPPUNIT_ASSERT_EQUAL(204, gone.status);
        CPPUNIT_ASSERT(gone.body.empty());
    }

    void testRawReply() {
        HttpResponse response = run({Method::Get, "/p/raw"});
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, World!"), response.body);
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain"), response.contentType);
        CPPUNIT_ASSERT_EQUAL(std::string("yes"), headerOf(response, "X-Custom"));
        CPPUNIT_ASSERT_EQUAL(std::string("no-store"), headerOf(response, "Cache-Control"));
        CPPUNIT_ASSERT(isGeneratedId(std::string(response.requestId)));
    }

    void testRawRedirectAllowedRawErrorNot() {
        HttpResponse redirect = run({Method::Get, "/p/raw302"});
        CPPUNIT_ASSERT_EQUAL(302, redirect.status);
        CPPUNIT_ASSERT_EQUAL(std::string("/elsewhere"), headerOf(redirect, "Location"));
        HttpResponse notFound = run({Method::Get, "/p/raw404"});
        CPPUNIT_ASSERT_EQUAL(500, notFound.status);  // errors must be thrown as ApiError
        CPPUNIT_ASSERT(!contains(notFound.body, "nope"));
    }

    void testReplyHeadersHostOwnedDropped() {
        HttpResponse response = run({Method::Get, "/p/owned"});
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), response.contentType);
        for (const auto& [name, value] : response.headers) {
            std::string lower;
            for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            CPPUNIT_ASSERT_MESSAGE(name, lower != "content-length" && lower != "transfer-encoding" &&
                                             lower != "connection" && lower != "content-type");
        }
        CPPUNIT_ASSERT_EQUAL(std::string("1"), headerOf(response, "X-Kept"));
        CPPUNIT_ASSERT(log_->contains("Content-Length is set by the host"));
    }

    void testQueryThroughPipeline() {
        HttpResponse response = run({Method::Get, "/p/query?x=1&q=a+b%26c"});
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":"a b&c"})"),
                             response.body);
        HttpResponse absent = run({Method::Get, "/p/query"});
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":null})"),
                             absent.body);
        HttpResponse broken = run({Method::Get, "/p/query?q=%zz", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(400, broken.status);
        CPPUNIT_ASSERT_EQUAL(
            errorBody(400, "invalid query string", "bad percent-encoding in parameter 'q'", "r"),
            broken.body);
    }

    void testJsonBody() {
        HttpResponse response = run({Method::Post, "/p/echo", {}, R"({"a":[1,2.5,"x"],"a":true})"});
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"a":[1,2.5,"x"],"a":true}})"),
            response.body);
    }

    void testInvalidJsonBodyIs400() {
        const std::string deep = std::string(600, '[') + std::string(600, ']');
        for (const std::string& body : {std::string("{"), std::string("{} x"), std::string("\"\xff\""), deep,
                                        std::string(""), std::string("{}\0", 3)}) {
            HttpResponse response = run({Method::Post, "/p/echo", {}, body});
            CPPUNIT_ASSERT_EQUAL(400, response.status);
            Json parsed = Json::parse(response.body);
            CPPUNIT_ASSERT_EQUAL(std::int64_t(400), parsed["code"].asInt());
            CPPUNIT_ASSERT_EQUAL(std::string("invalid JSON body"), parsed["message"].asString());
        }
    }

    void testHostEndpoint() {
        HttpResponse response = run({Method::Get, "/health"});
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), response.contentType);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":{"status":"up"}})"),
                             response.body);
        CPPUNIT_ASSERT(isGeneratedId(std::string(response.requestId)));
        CPPUNIT_ASSERT_EQUAL(response.body, run({Method::Head, "/health"}).body);
        CPPUNIT_ASSERT_EQUAL(200, run({Method::Head, "/health"}).status);
    }

    void testHostEndpointMethods() {
        HttpResponse options = run({Method::Options, "/health"});
        CPPUNIT_ASSERT_EQUAL(204, options.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), headerOf(options, "Allow"));
        CPPUNIT_ASSERT(options.body.empty());
        HttpResponse post = run({Method::Post, "/health", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(405, post.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), headerOf(post, "Allow"));
        CPPUNIT_ASSERT_EQUAL(errorBody(405, "method not allowed", "POST is not allowed on /health", "r"),
                             post.body);
    }

    void testHostEndpointExactPathOnly() {
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/health/"}).status);
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/health/x"}).status);
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/HEALTH"}).status);
        // The query string is not part of the path.
        CPPUNIT_ASSERT_EQUAL(200, run({Method::Get, "/health?verbose=1"}).status);
    }

    // /ready blocks: prepare() must hand it back as a route (the engine runs those on a worker)
    // instead of answering it on the I/O thread.
    void testBlockingHostEndpointIsLeftToAWorker() {
        for (Method method : {Method::Get, Method::Head}) {
            HostRequest& request = requests_.emplace_back();
            request.setMethod(method);
            request.setTarget("/ready");
            HttpResponse response;
            const berth::server::Route* route = pipeline_->prepare(request, response);
            CPPUNIT_ASSERT_MESSAGE("answered on the calling thread", route != nullptr);
            CPPUNIT_ASSERT_EQUAL(0, readyCalls_);
            CPPUNIT_ASSERT_EQUAL(std::string(""), route->mount->plugin);
            CPPUNIT_ASSERT_EQUAL(std::string("/ready"), route->pattern.source());
            CPPUNIT_ASSERT_EQUAL(std::size_t(0), route->metricsSeries);
            pipeline_->run(*route, request, response);
            CPPUNIT_ASSERT_EQUAL(1, readyCalls_);
            CPPUNIT_ASSERT_EQUAL(200, response.status);
            CPPUNIT_ASSERT_EQUAL(
                std::string(R"({"status":true,"code":0,"message":"ok","data":{"status":"ready"}})"),
                response.body);
            readyCalls_ = 0;
        }
        ready_ = false;
        HttpResponse notReady = run({Method::Get, "/ready", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(503, notReady.status);
        CPPUNIT_ASSERT_EQUAL(errorBody(503, "not ready", Json::object({{"db.main", "down"}}), "r"),
                             notReady.body);
    }

    void testBlockingHostEndpointMethods() {
        HttpResponse options = run({Method::Options, "/ready"});
        CPPUNIT_ASSERT_EQUAL(204, options.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), headerOf(options, "Allow"));
        HttpResponse post = run({Method::Post, "/ready", {{"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(405, post.status);
        CPPUNIT_ASSERT_EQUAL(errorBody(405, "method not allowed", "POST is not allowed on /ready", "r"),
                             post.body);
        CPPUNIT_ASSERT_EQUAL(404, run({Method::Get, "/ready/x"}).status);
        CPPUNIT_ASSERT_EQUAL(0, readyCalls_);
    }

    void testCorsActualRequest() {
        cors_.allowedOrigins = {"https://app.example.com"};
        build();
        HttpResponse response = run({Method::Get, "/p/greet/a", {{"Origin", "https://app.example.com"}}});
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("https://app.example.com"),
                             headerOf(response, "Access-Control-Allow-Origin"));
        CPPUNIT_ASSERT_EQUAL(std::string("Origin"), headerOf(response, "Vary"));
        CPPUNIT_ASSERT_EQUAL(std::string("X-Request-Id"),
                             headerOf(response, "Access-Control-Expose-Headers"));
        HttpResponse host = run({Method::Get, "/health", {{"Origin", "https://app.example.com"}}});
        CPPUNIT_ASSERT_EQUAL(std::string("https://app.example.com"),
                             headerOf(host, "Access-Control-Allow-Origin"));
    }

    void testCorsOnErrors() {
        cors_.allowedOrigins = {"https://app.example.com"};
        build();
        for (const char* target : {"/nowhere", "/p/error", "/p/crash"}) {
            HttpResponse response = run({Method::Get, target, {{"Origin", "https://app.example.com"}}});
            CPPUNIT_ASSERT(response.status >= 400);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(target, std::string("https://app.example.com"),
                                         headerOf(response, "Access-Control-Allow-Origin"));
        }
    }

    void testCorsDisallowedOrigin() {
        cors_.allowedOrigins = {"https://app.example.com"};
        build();
        HttpResponse response = run({Method::Get, "/p/greet/a", {{"Origin", "https://evil.example"}}});
        CPPUNIT_ASSERT_EQUAL(200, response.status);  // served, but the browser gets no permission
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), headerOf(response, "Access-Control-Allow-Origin"));
        HttpResponse noOrigin = run({Method::Get, "/p/greet/a"});
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), headerOf(noOrigin, "Access-Control-Allow-Origin"));
    }

    void testCorsDisabled() {
        HttpResponse response = run({Method::Get, "/p/greet/a", {{"Origin", "https://app.example.com"}}});
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), headerOf(response, "Access-Control-Allow-Origin"));
        HttpResponse preflight =
            run({Method::Options,
                 "/p/greet/a",
                 {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "GET"}}});
        CPPUNIT_ASSERT_EQUAL(204, preflight.status);
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), headerOf(preflight, "Access-Control-Allow-Origin"));
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), headerOf(preflight, "Allow"));
    }

    // The answer depends on Origin whenever CORS is on (ACAO is echoed for allowed origins only), so
    // every response must say Vary: Origin; otherwise a shared cache can store the answer given to
    // a request without Origin (or from another origin) and hand it, without
    // Access-Control-Allow-Origin, to the allowed origin (cors_policy.cpp: "caches keep apart the
    // answers for different origins (hence Vary)").
    void testVaryOriginOnEveryCorsResponse() {
        cors_.allowedOrigins = {"https://app.example.com"};
        build();
        HttpResponse allowed = run({Method::Get, "/p/greet/a", {{"Origin", "https://app.example.com"}}});
        CPPUNIT_ASSERT_EQUAL(std::string("Origin"), headerOf(allowed, "Vary"));
        HttpResponse noOrigin = run({Method::Get, "/p/greet/a"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE("request without Origin", std::string("Origin"),
                                     headerOf(noOrigin, "Vary"));
        HttpResponse otherOrigin = run({Method::Get, "/p/greet/a", {{"Origin", "https://other.example"}}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE("request from a disallowed origin", std::string("Origin"),
                                     headerOf(otherOrigin, "Vary"));
    }

    void testPreflightAnswered() {
        cors_.allowedOrigins = {"https://app.example.com"};
        build();
        // Answered by the host even for a path no plugin serves.
        for (const char* target : {"/p/greet/a", "/p/unknown"}) {
            HttpResponse response = run({Method::Options,
                                         target,
                                         {{"Origin", "https://app.example.com"},
                                          {"Access-Control-Request-Method", "PUT"},
                                          {"Access-Control-Request-Headers", "content-type"}}});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(target, 204, response.status);
            CPPUNIT_ASSERT_EQUAL(std::string("https://app.example.com"),
                                 headerOf(response, "Access-Control-Allow-Origin"));
            CPPUNIT_ASSERT_EQUAL(std::string("GET, POST, PUT, PATCH, DELETE"),
                                 headerOf(response, "Access-Control-Allow-Methods"));
            CPPUNIT_ASSERT_EQUAL(std::string("600"), headerOf(response, "Access-Control-Max-Age"));
            CPPUNIT_ASSERT(response.body.empty());
        }
    }

    void testPreflightRefused() {
        cors_.allowedOrigins = {"https://app.example.com"};
        build();
        HttpResponse origin = run({Method::Options,
                                   "/p/greet/a",
                                   {{"Origin", "https://evil.example"},
                                    {"Access-Control-Request-Method", "GET"},
                                    {"X-Request-Id", "r"}}});
        CPPUNIT_ASSERT_EQUAL(403, origin.status);
        CPPUNIT_ASSERT_EQUAL(
            errorBody(403, "CORS preflight refused", "origin 'https://evil.example' is not allowed", "r"),
            origin.body);
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), headerOf(origin, "Access-Control-Allow-Origin"));
        HttpResponse header = run({Method::Options,
                                   "/p/greet/a",
                                   {{"Origin", "https://app.example.com"},
                                    {"Access-Control-Request-Method", "GET"},
                                    {"Access-Control-Request-Headers", "X-Evil"}}});
        CPPUNIT_ASSERT_EQUAL(403, header.status);
        CPPUNIT_ASSERT_EQUAL(std::string("header 'X-Evil' is not allowed"),
                             Json::parse(header.body)["error"].asString());
        HttpResponse method =
            run({Method::Options,
                 "/p/greet/a",
                 {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "TRACE"}}});
        CPPUNIT_ASSERT_EQUAL(403, method.status);
    }

    void testPreflightWithoutCorsIsPlainOptions() {
        cors_.allowedOrigins = {"https://app.example.com"};
        build();
        // OPTIONS with an Origin but no Access-Control-Request-Method is not a preflight.
        HttpResponse response = run({Method::Options, "/p/greet/a", {{"Origin", "https://app.example.com"}}});
        CPPUNIT_ASSERT_EQUAL(204, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), headerOf(response, "Allow"));
        CPPUNIT_ASSERT_EQUAL(std::string("https://app.example.com"),
                             headerOf(response, "Access-Control-Allow-Origin"));
    }

    void testReject() {
        const std::string id = "rid-413";
        HostRequest request;
        request.setMethod(Method::Post);
        request.setTarget("/p/echo");
        request.addHeader("X-Request-Id", id);
        HttpResponse response;
        pipeline_->reject(request, 413, "request body too large", "at most 10 bytes", response);
        CPPUNIT_ASSERT_EQUAL(413, response.status);
        CPPUNIT_ASSERT_EQUAL(std::string("rid-413"), std::string(response.requestId));
        CPPUNIT_ASSERT_EQUAL(errorBody(413, "request body too large", "at most 10 bytes", "rid-413"),
                             response.body);
    }

    void testTracedErrorsNameTheirTrace() {
        const std::string trace = "463ac35c9f6413ad48485a3953bb6124", span = "a2fb4a1d1a96d312";
        berth::server::RequestTracer tracer(berth::server::Sampler::forRate(1));
        pipeline_->setRequestTracer(&tracer);
        HttpResponse continued =
            run({Method::Get,
                 "/p/error",
                 {{"X-Request-Id", "rid-1"}, {"traceparent", "00-" + trace + "-" + span + "-01"}}});
        CPPUNIT_ASSERT_EQUAL(422, continued.status);
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":42201,"message":"cannot greet \"nobody\"","error":{"field":"name"},"request_id":"rid-1","trace_id":")" +
                trace + "\"}"),
            continued.body);
        // A new trace of ours: its id is the request id. A caller's trace that is not sampled still
        // names its id (the log lines carry it).
        HttpResponse fresh = run({Method::Get, "/p/crash"});
        CPPUNIT_ASSERT_EQUAL(500, fresh.status);
        CPPUNIT_ASSERT_EQUAL(std::string(fresh.requestId), Json::parse(fresh.body)["trace_id"].asString());
        HttpResponse notSampled =
            run({Method::Get, "/p/api503", {{"b3", trace.substr(16) + "-" + span + "-0"}}});
        CPPUNIT_ASSERT_EQUAL(trace.substr(16), Json::parse(notSampled.body)["trace_id"].asString());
        // The success envelope stays as it was.
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"greeting":"hi a"}})"),
            run({Method::Get, "/p/greet/a", {{"b3", trace + "-" + span}}}).body);
        pipeline_->setRequestTracer(nullptr);
    }

    void testUntracedErrorsHaveNoTraceId() {
        berth::server::RequestTracer tracer(berth::server::Sampler::forRate(0));
        pipeline_->setRequestTracer(&tracer);
        for (const Call& call :
             {Call{Method::Get, "/p/error"},                           // not sampled
              Call{Method::Get, "/p/error", {{"X-B3-Sampled", "0"}}},  // no ids to name
              Call{Method::Get, "/nowhere", {{"b3", "463ac35c9f6413ad-a2fb4a1d1a96d312-1"}}}})
            CPPUNIT_ASSERT_MESSAGE(call.target, Json::parse(run(call).body).find("trace_id") == nullptr);
        pipeline_->setRequestTracer(nullptr);  // tracing off
        Json off =
            Json::parse(run({Method::Get, "/p/error", {{"b3", "463ac35c9f6413ad-a2fb4a1d1a96d312-1"}}}).body);
        CPPUNIT_ASSERT(off.find("trace_id") == nullptr);
    }

    void testTraceStateWhileTheHandlerRuns() {
        const std::string parent = "00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01";
        const std::string state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
        auto seen = [&](const Headers& headers) {
            HttpResponse response = run({Method::Get, "/p/tracestate", headers});
            CPPUNIT_ASSERT(berth::server::currentTraceState().empty());  // restored after the handler
            return Json::parse(response.body)["data"].asString();
        };
        berth::server::RequestTracer tracer(berth::server::Sampler::forRate(1));
        pipeline_->setRequestTracer(&tracer);
        CPPUNIT_ASSERT_EQUAL(state, seen({{"traceparent", parent}, {"tracestate", state}}));
        CPPUNIT_ASSERT_EQUAL(std::string(),
                             seen({{"b3", "463ac35c9f6413ad-a2fb4a1d1a96d312"}, {"tracestate", state}}));
        CPPUNIT_ASSERT_EQUAL(std::string(), seen({{"tracestate", state}}));
        pipeline_->setRequestTracer(nullptr);  // tracing off: nothing is passed on
        CPPUNIT_ASSERT_EQUAL(std::string(), seen({{"traceparent", parent}, {"tracestate", state}}));
    }

  private:
    void build() {
        pipeline_ = std::make_unique<HttpPipeline>(*table_, CorsPolicy(cors_), limits_, *logger_);
        pipeline_->addHostEndpoint("/health", [] { return Json::object({{"status", "up"}}); });
        pipeline_->addBlockingHostEndpoint("/ready", [this](const Request&) -> Reply {
            ++readyCalls_;
            if (!ready_) throw ApiError(503, 503, "not ready", Json::object({{"db.main", "down"}}));
            return Json::object({{"status", "ready"}});
        });
    }

    // The call's strings live in `call` for the whole of handle(), as HostRequest keeps views.
    // The response's requestId points into its request: keep every request of a test alive.
    HttpResponse run(const Call& call) {
        HostRequest& request = requests_.emplace_back();
        request.setMethod(call.method);
        request.setTarget(call.target);
        for (const auto& [name, value] : call.headers) request.addHeader(name, value);
        request.setBody(call.body);
        HttpResponse response;
        pipeline_->handle(request, response);
        return response;
    }

    std::list<HostRequest> requests_;
    int readyCalls_ = 0;
    bool ready_ = true;
    Poco::AutoPtr<CaptureChannel> log_;
    Poco::Logger* logger_ = nullptr;
    std::unique_ptr<RouteTable> table_;
    std::unique_ptr<HttpPipeline> pipeline_;
    HttpLimits limits_;
    CorsSettings cors_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PipelineTest);
