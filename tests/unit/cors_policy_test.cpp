// CorsPolicy: which origins are allowed, the headers on actual requests, preflight answers and
// refusals; splitList for the comma-separated cors.* values.
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <utility>
#include <vector>

#include "http/cors_policy.h"

using berth::server::CorsPolicy;
using berth::server::CorsSettings;
using berth::server::HttpResponse;
using berth::server::splitList;
using Headers = std::vector<std::pair<std::string, std::string>>;

namespace {

CorsSettings appSettings() {
    CorsSettings settings;
    settings.allowedOrigins = {"https://app.example.com", "http://localhost:3000"};
    return settings;
}

}  // namespace

class CorsPolicyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CorsPolicyTest);
    CPPUNIT_TEST(testSplitList);
    CPPUNIT_TEST(testEnabled);
    CPPUNIT_TEST(testOriginAllowed);
    CPPUNIT_TEST(testWildcard);
    CPPUNIT_TEST(testResponseHeaders);
    CPPUNIT_TEST(testResponseHeadersWithCredentialsNoExposed);
    CPPUNIT_TEST(testPreflightAnswer);
    CPPUNIT_TEST(testPreflightCaseInsensitive);
    CPPUNIT_TEST(testPreflightCustomSettings);
    CPPUNIT_TEST(testPreflightRefusals);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testSplitList() {
        CPPUNIT_ASSERT(splitList("a, b ,c") == std::vector<std::string>({"a", "b", "c"}));
        CPPUNIT_ASSERT(splitList("") == std::vector<std::string>());
        CPPUNIT_ASSERT(splitList(" , ,\t,") == std::vector<std::string>());
        CPPUNIT_ASSERT(splitList(",,a,,\tb\t,") == std::vector<std::string>({"a", "b"}));
        CPPUNIT_ASSERT(splitList("one") == std::vector<std::string>({"one"}));
        CPPUNIT_ASSERT(splitList("a b, c") == std::vector<std::string>({"a b", "c"}));  // inner space kept
    }

    void testEnabled() {
        CPPUNIT_ASSERT(!CorsPolicy().enabled());
        CPPUNIT_ASSERT(CorsPolicy(appSettings()).enabled());
    }

    void testOriginAllowed() {
        CorsPolicy cors(appSettings());
        CPPUNIT_ASSERT(cors.originAllowed("https://app.example.com"));
        CPPUNIT_ASSERT(cors.originAllowed("http://localhost:3000"));
        CPPUNIT_ASSERT(!cors.originAllowed(""));
        CPPUNIT_ASSERT(!cors.originAllowed("https://APP.example.com"));
        CPPUNIT_ASSERT(!cors.originAllowed("https://app.example.com.evil.org"));
        CPPUNIT_ASSERT(!cors.originAllowed("https://app.example.com/"));
        CPPUNIT_ASSERT(!cors.originAllowed("http://app.example.com"));
        CPPUNIT_ASSERT(!cors.originAllowed("null"));
        CPPUNIT_ASSERT(!CorsPolicy().originAllowed("https://app.example.com"));
    }

    void testWildcard() {
        CorsSettings settings;
        settings.allowedOrigins = {"*"};
        CorsPolicy cors(settings);
        CPPUNIT_ASSERT(cors.originAllowed("https://anything.example"));
        CPPUNIT_ASSERT(!cors.originAllowed(""));
        HttpResponse response;
        cors.addResponseHeaders("https://x.example", response);
        // The origin is echoed, never "*".
        CPPUNIT_ASSERT_EQUAL(std::string("Access-Control-Allow-Origin"), response.headers.at(0).first);
        CPPUNIT_ASSERT_EQUAL(std::string("https://x.example"), response.headers.at(0).second);
    }

    void testResponseHeaders() {
        CorsPolicy cors(appSettings());
        HttpResponse response;
        cors.addResponseHeaders("https://app.example.com", response);
        Headers expected{{"Access-Control-Allow-Origin", "https://app.example.com"},
                         {"Vary", "Origin"},
                         {"Access-Control-Expose-Headers", "X-Request-Id"}};
        CPPUNIT_ASSERT(expected == response.headers);
        CPPUNIT_ASSERT_EQUAL(200, response.status);
    }

    void testResponseHeadersWithCredentialsNoExposed() {
        CorsSettings settings = appSettings();
        settings.allowCredentials = true;
        settings.exposedHeaders.clear();
        CorsPolicy cors(settings);
        HttpResponse response;
        cors.addResponseHeaders("http://localhost:3000", response);
        Headers expected{{"Access-Control-Allow-Origin", "http://localhost:3000"},
                         {"Vary", "Origin"},
                         {"Access-Control-Allow-Credentials", "true"}};
        CPPUNIT_ASSERT(expected == response.headers);
    }

    void testPreflightAnswer() {
        CorsPolicy cors(appSettings());
        HttpResponse response;
        CPPUNIT_ASSERT_EQUAL(std::string(), cors.answerPreflight("https://app.example.com", "PUT",
                                                                 "Content-Type, X-Request-Id", response));
        CPPUNIT_ASSERT_EQUAL(204, response.status);
        Headers expected{{"Access-Control-Allow-Origin", "https://app.example.com"},
                         {"Vary", "Origin"},
                         {"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE"},
                         {"Access-Control-Allow-Headers", "Content-Type, Authorization, X-Request-Id"},
                         {"Access-Control-Max-Age", "600"}};
        CPPUNIT_ASSERT(expected == response.headers);
        CPPUNIT_ASSERT(response.body.empty());
    }

    void testPreflightCaseInsensitive() {
        CorsPolicy cors(appSettings());
        HttpResponse response;
        CPPUNIT_ASSERT_EQUAL(std::string(), cors.answerPreflight("https://app.example.com", "get",
                                                                 "content-type,AUTHORIZATION", response));
        CPPUNIT_ASSERT_EQUAL(204, response.status);
        HttpResponse noHeaders;
        CPPUNIT_ASSERT_EQUAL(std::string(),
                             cors.answerPreflight("https://app.example.com", "DELETE", "", noHeaders));
    }

    void testPreflightCustomSettings() {
        CorsSettings settings = appSettings();
        settings.allowedMethods = {"GET"};
        settings.allowedHeaders.clear();
        settings.allowCredentials = true;
        settings.maxAgeSeconds = 0;
        CorsPolicy cors(settings);
        HttpResponse response;
        CPPUNIT_ASSERT_EQUAL(std::string(),
                             cors.answerPreflight("https://app.example.com", "GET", "", response));
        Headers expected{{"Access-Control-Allow-Origin", "https://app.example.com"},
                         {"Vary", "Origin"},
                         {"Access-Control-Allow-Methods", "GET"},
                         {"Access-Control-Max-Age", "0"},
                         {"Access-Control-Allow-Credentials", "true"}};
        CPPUNIT_ASSERT(expected == response.headers);
        HttpResponse refused;
        CPPUNIT_ASSERT_EQUAL(std::string("header 'Content-Type' is not allowed"),
                             cors.answerPreflight("https://app.example.com", "GET", "Content-Type", refused));
    }

    void testPreflightRefusals() {
        CorsPolicy cors(appSettings());
        HttpResponse response;
        CPPUNIT_ASSERT_EQUAL(std::string("origin 'https://evil.example' is not allowed"),
                             cors.answerPreflight("https://evil.example", "GET", "", response));
        CPPUNIT_ASSERT_EQUAL(std::string("origin '' is not allowed"),
                             cors.answerPreflight("", "GET", "", response));
        CPPUNIT_ASSERT_EQUAL(std::string("method 'TRACE' is not allowed"),
                             cors.answerPreflight("https://app.example.com", "TRACE", "", response));
        CPPUNIT_ASSERT_EQUAL(std::string("method 'GE' is not allowed"),
                             cors.answerPreflight("https://app.example.com", "GE", "", response));
        CPPUNIT_ASSERT_EQUAL(
            std::string("header 'X-Evil' is not allowed"),
            cors.answerPreflight("https://app.example.com", "GET", "Content-Type, X-Evil", response));
        // A refusal leaves the response alone: no CORS headers, no 204.
        CPPUNIT_ASSERT_EQUAL(200, response.status);
        CPPUNIT_ASSERT(response.headers.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CorsPolicyTest);
