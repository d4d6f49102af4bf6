// berth::Request as plugins see it (through the host's HostRequest): query decoding, headers,
// lazily parsed JSON body (bad JSON → ApiError 400), path parameters, target splitting.
#include <cppunit/extensions/HelperMacros.h>

#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "berth/error.h"
#include "berth/request.h"
#include "http/host_request.h"
#include "test_helpers.h"

using berth::ApiError;
using berth::Json;
using berth::Method;
using berth::server::HostRequest;
using berth::server::RoutePattern;

namespace {

std::string q(const HostRequest& request, const std::string& name) {
    std::optional<std::string> value = request.query(name);
    return value ? "=" + *value : "<absent>";
}

}  // namespace

class RequestTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RequestTest);
    CPPUNIT_TEST(testSetTargetSplitsPathAndQuery);
    CPPUNIT_TEST(testQueryDecoding);
    CPPUNIT_TEST(testQueryFirstWins);
    CPPUNIT_TEST(testQueryEdgeCases);
    CPPUNIT_TEST(testQueryBadEncodingInValueIs400);
    CPPUNIT_TEST(testQueryBadEncodingInOtherNameIgnored);
    CPPUNIT_TEST(testHeadersCaseInsensitive);
    CPPUNIT_TEST(testOriginAndRequestIdNotedOnAdd);
    CPPUNIT_TEST(testJsonParsedOnceAndCached);
    CPPUNIT_TEST(testJsonInvalidIs400);
    CPPUNIT_TEST(testJsonEmptyBodyIs400);
    CPPUNIT_TEST(testJsonTooDeepIs400);
    CPPUNIT_TEST(testParams);
    CPPUNIT_TEST(testMethodNames);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testSetTargetSplitsPathAndQuery() {
        HostRequest request;
        request.setTarget("/a/b?x=1&y=2");
        CPPUNIT_ASSERT_EQUAL(std::string("/a/b"), std::string(request.path()));
        CPPUNIT_ASSERT_EQUAL(std::string("x=1&y=2"), std::string(request.queryString()));
        request.setTarget("/a");
        CPPUNIT_ASSERT_EQUAL(std::string("/a"), std::string(request.path()));
        CPPUNIT_ASSERT_EQUAL(std::string(""), std::string(request.queryString()));
        request.setTarget("/a?");
        CPPUNIT_ASSERT_EQUAL(std::string("/a"), std::string(request.path()));
        CPPUNIT_ASSERT_EQUAL(std::string(""), std::string(request.queryString()));
        request.setTarget("/a?b?c=d");
        CPPUNIT_ASSERT_EQUAL(std::string("b?c=d"), std::string(request.queryString()));
        CPPUNIT_ASSERT_EQUAL(std::string("=d"), q(request, "b?c"));
    }

    void testQueryDecoding() {
        HostRequest request;
        const std::string target = "/p?a=1&b=x%20y&c=a+b&plus=%2B&utf=%C3%A9&first+name=Ann&%7A=zed&e=b=c";
        request.setTarget(target);
        CPPUNIT_ASSERT_EQUAL(std::string("=1"), q(request, "a"));
        CPPUNIT_ASSERT_EQUAL(std::string("=x y"), q(request, "b"));
        CPPUNIT_ASSERT_EQUAL(std::string("=a b"), q(request, "c"));
        CPPUNIT_ASSERT_EQUAL(std::string("=+"), q(request, "plus"));
        CPPUNIT_ASSERT_EQUAL(std::string("=\xc3\xa9"), q(request, "utf"));
        CPPUNIT_ASSERT_EQUAL(std::string("=Ann"), q(request, "first name"));
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), q(request, "first+name"));
        CPPUNIT_ASSERT_EQUAL(std::string("=zed"), q(request, "z"));
        CPPUNIT_ASSERT_EQUAL(std::string("=b=c"), q(request, "e"));
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), q(request, "missing"));
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), q(request, "A"));  // names are case-sensitive
    }

    void testQueryFirstWins() {
        HostRequest request;
        request.setTarget("/p?a=1&a=2");
        CPPUNIT_ASSERT_EQUAL(std::string("=1"), q(request, "a"));
    }

    void testQueryEdgeCases() {
        HostRequest request;
        request.setTarget("/p?&&flag&empty=&a=1&");
        CPPUNIT_ASSERT_EQUAL(std::string("="), q(request, "flag"));  // present without a value
        CPPUNIT_ASSERT_EQUAL(std::string("="), q(request, "empty"));
        CPPUNIT_ASSERT_EQUAL(std::string("=1"), q(request, "a"));
        HostRequest none;
        none.setTarget("/p");
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), q(none, "a"));
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), q(none, ""));
    }

    void testQueryBadEncodingInValueIs400() {
        for (const char* target : {"/p?a=%zz", "/p?a=%4", "/p?a=%", "/p?a=x%00y"}) {
            HostRequest request;
            request.setTarget(target);
            try {
                request.query("a");
                CPPUNIT_FAIL(std::string(target) + ": no ApiError");
            } catch (const ApiError& e) {
                CPPUNIT_ASSERT_EQUAL(400, e.httpStatus());
                CPPUNIT_ASSERT_EQUAL(400, e.code());
                CPPUNIT_ASSERT_EQUAL(std::string("invalid query string"), e.message());
                CPPUNIT_ASSERT_EQUAL(std::string("bad percent-encoding in parameter 'a'"),
                                     e.error().asString());
            }
        }
    }

    void testQueryBadEncodingInOtherNameIgnored() {
        HostRequest request;
        request.setTarget("/p?%zz=1&b=%zz&a=ok");
        CPPUNIT_ASSERT_EQUAL(std::string("=ok"), q(request, "a"));  // neither broken pair is "a"
    }

    void testHeadersCaseInsensitive() {
        const std::string name = "Content-Type", value = "application/json";
        const std::string name2 = "X-Dup", v1 = "first", v2 = "second";
        HostRequest request;
        request.addHeader(name, value);
        request.addHeader(name2, v1);
        request.addHeader(name2, v2);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), std::string(request.header("content-type")));
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), std::string(request.header("CONTENT-TYPE")));
        CPPUNIT_ASSERT(request.hasHeader("cOnTeNt-TyPe"));
        CPPUNIT_ASSERT_EQUAL(std::string("first"), std::string(request.header("x-dup")));
        CPPUNIT_ASSERT(!request.hasHeader("Content"));
        CPPUNIT_ASSERT(!request.hasHeader("Content-Type-X"));
        CPPUNIT_ASSERT(request.header("Accept").empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), request.headers().size());
    }

    void testJsonParsedOnceAndCached() {
        const std::string body = R"({"a":[1,2],"a":"last"})";
        HostRequest request;
        request.setBody(body);
        const Json& first = request.json();
        CPPUNIT_ASSERT_EQUAL(std::string("last"), first["a"].asString());
        CPPUNIT_ASSERT(&first == &request.json());
        CPPUNIT_ASSERT_EQUAL(body, std::string(request.body()));
    }

    void testJsonInvalidIs400() {
        const std::string bodies[] = {"{", "{\"a\":1} trailing", "\"\xff\"", std::string("{}\0", 3), "nope"};
        for (const std::string& body : bodies) {
            HostRequest request;
            request.setBody(body);
            try {
                request.json();
                CPPUNIT_FAIL("no ApiError for body " + body);
            } catch (const ApiError& e) {
                CPPUNIT_ASSERT_EQUAL(400, e.httpStatus());
                CPPUNIT_ASSERT_EQUAL(400, e.code());
                CPPUNIT_ASSERT_EQUAL(std::string("invalid JSON body"), e.message());
                CPPUNIT_ASSERT(e.error().isString());
                CPPUNIT_ASSERT(berth::test::contains(e.error().asString(), "invalid JSON"));
            }
            // Still an error the second time, not a stale or empty value.
            CPPUNIT_ASSERT_THROW(request.json(), ApiError);
        }
    }

    void testJsonEmptyBodyIs400() {
        HostRequest request;
        CPPUNIT_ASSERT_THROW(request.json(), ApiError);
    }

    void testJsonTooDeepIs400() {
        std::string body(600, '[');
        body += std::string(600, ']');
        HostRequest request;
        request.setBody(body);
        CPPUNIT_ASSERT_THROW(request.json(), ApiError);
    }

    // The pipeline reads Origin and X-Request-Id through these instead of searching the headers:
    // they must agree with header() (first field wins, any case) and forget the last request.
    void testOriginAndRequestIdNotedOnAdd() {
        HostRequest request;
        request.addHeader("Host", "x");
        request.addHeader("ORIGIN", "https://a.example");
        request.addHeader("x-request-id", "first");
        request.addHeader("Origin", "https://b.example");
        request.addHeader("X-Request-ID", "second");
        request.addHeader("Origins", "not this");
        CPPUNIT_ASSERT_EQUAL(std::string("https://a.example"), std::string(request.origin()));
        CPPUNIT_ASSERT_EQUAL(std::string("first"), std::string(request.givenRequestId()));
        CPPUNIT_ASSERT_EQUAL(request.header("Origin"), request.origin());
        CPPUNIT_ASSERT_EQUAL(request.header("X-Request-Id"), request.givenRequestId());
        request.reset();
        CPPUNIT_ASSERT(request.origin().empty() && request.givenRequestId().empty());
        request.addHeader("X-Request-Idx", "no");
        request.addHeader("Orig-n", "no");
        CPPUNIT_ASSERT(request.origin().empty() && request.givenRequestId().empty());
        request.addHeader("Origin", "");  // an empty first field still wins, as with header()
        request.addHeader("Origin", "https://late.example");
        CPPUNIT_ASSERT(request.origin().empty());
    }

    void testParams() {
        RoutePattern pattern = RoutePattern::compile("/items/<id:int>/<name>");
        std::vector<std::string> segments{"items", "-9223372036854775808", "a b"};
        std::vector<RoutePattern::Param> params;
        CPPUNIT_ASSERT(pattern.match(segments, 0, params) == RoutePattern::Match::Yes);
        HostRequest request;
        request.setParams(std::move(params));
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::int64_t>::min(), request.paramInt("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("-9223372036854775808"), request.param("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("a b"), request.param("name"));
        CPPUNIT_ASSERT_THROW(request.param("missing"), std::out_of_range);
        CPPUNIT_ASSERT_THROW(request.paramInt("missing"), std::out_of_range);
        CPPUNIT_ASSERT_THROW(request.param("ID"), std::out_of_range);
    }

    void testMethodNames() {
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), std::string(berth::methodName(Method::Get)));
        CPPUNIT_ASSERT_EQUAL(std::string("HEAD"), std::string(berth::methodName(Method::Head)));
        CPPUNIT_ASSERT_EQUAL(std::string("POST"), std::string(berth::methodName(Method::Post)));
        CPPUNIT_ASSERT_EQUAL(std::string("PUT"), std::string(berth::methodName(Method::Put)));
        CPPUNIT_ASSERT_EQUAL(std::string("PATCH"), std::string(berth::methodName(Method::Patch)));
        CPPUNIT_ASSERT_EQUAL(std::string("DELETE"), std::string(berth::methodName(Method::Delete)));
        CPPUNIT_ASSERT_EQUAL(std::string("OPTIONS"), std::string(berth::methodName(Method::Options)));
        CPPUNIT_ASSERT_EQUAL(std::string("OTHER"), std::string(berth::methodName(Method::Other)));
        for (Method m : {Method::Get, Method::Head, Method::Post, Method::Put, Method::Patch, Method::Delete,
                         Method::Options})
            CPPUNIT_ASSERT(HostRequest::parseMethod(berth::methodName(m)) == m);
        CPPUNIT_ASSERT(HostRequest::parseMethod("get") == Method::Other);  // methods are case-sensitive
        CPPUNIT_ASSERT(HostRequest::parseMethod("TRACE") == Method::Other);
        CPPUNIT_ASSERT(HostRequest::parseMethod("") == Method::Other);
        CPPUNIT_ASSERT(HostRequest::parseMethod("GETX") == Method::Other);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestTest);
