// berth/testing.h's MockService, checked with a plain Poco client: canned answers (status, body,
// headers, delay), unmatched calls (404, counted), what it records per call (headers, body, query,
// connection), reset(), dropConnection() and stop().
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <thread>

#include "berth/testing.h"

using berth::Json;
using berth::testing::MockCall;
using berth::testing::MockService;

namespace {

struct Answer {
    int status = 0;
    std::string contentType;
    std::string header;  // the value of X-Extra
    std::string body;
};

Answer call(Poco::Net::HTTPClientSession& session, const std::string& method, const std::string& target,
            const std::string& body = "", const std::string& requestId = "") {
    session.setKeepAlive(true);
    Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    if (!requestId.empty()) request.set("X-Request-Id", requestId);
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Answer answer;
    answer.status = static_cast<int>(response.getStatus());
    answer.contentType = response.getContentType();
    answer.header = response.get("X-Extra", "");
    Poco::StreamCopier::copyToString(in, answer.body);
    return answer;
}

}  // namespace

class MockServiceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MockServiceTest);
    CPPUNIT_TEST(testCannedAnswers);
    CPPUNIT_TEST(testUnmatchedIs404AndCounted);
    CPPUNIT_TEST(testRecordsCallsAndConnections);
    CPPUNIT_TEST(testDelay);
    CPPUNIT_TEST(testRegisterAgainReplacesAnswer);
    CPPUNIT_TEST(testDropConnection);
    CPPUNIT_TEST(testResetAndStop);
    CPPUNIT_TEST(testBadRoute);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testCannedAnswers() {
        MockService mock;
        CPPUNIT_ASSERT(mock.port() > 0);
        CPPUNIT_ASSERT_EQUAL("http://127.0.0.1:" + std::to_string(mock.port()), mock.url());
        mock.get("/hospitals/1", Json::object({{"id", 1}}));
        mock.put("/hospitals/1").status(409).body("taken", "text/plain").header("X-Extra", "yes");
        mock.del("/hospitals/1").status(204);
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        Answer got = call(session, "GET", "/hospitals/1");
        CPPUNIT_ASSERT_EQUAL(200, got.status);
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), got.contentType);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":1})"), got.body);
        Answer put = call(session, "PUT", "/hospitals/1", "{}");
        CPPUNIT_ASSERT_EQUAL(409, put.status);
        CPPUNIT_ASSERT_EQUAL(std::string("taken"), put.body);
        CPPUNIT_ASSERT_EQUAL(std::string("yes"), put.header);
        CPPUNIT_ASSERT_EQUAL(204, call(session, "DELETE", "/hospitals/1").status);
        // Registering again replaces the answer and keeps the calls.
        mock.get("/hospitals/1", Json::object({{"id", 2}}));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":2})"), call(session, "GET", "/hospitals/1").body);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), mock.calls("GET", "/hospitals/1"));
    }

    void testUnmatchedIs404AndCounted() {
        MockService mock;
        mock.get("/a", Json::object());
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        Answer missing = call(session, "GET", "/b?x=1");
        CPPUNIT_ASSERT_EQUAL(404, missing.status);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"mock":"no answer registered for GET /b"})"), missing.body);
        CPPUNIT_ASSERT_EQUAL(404, call(session, "POST", "/a", "{}").status);  // another method: no match
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), mock.unmatched());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), mock.calls("GET", "/a"));
        std::vector<MockCall> all = mock.received();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), all.size());
        CPPUNIT_ASSERT(!all[0].matched && !all[1].matched);
        CPPUNIT_ASSERT_EQUAL(std::string("x=1"), all[0].query);
    }

    void testRecordsCallsAndConnections() {
        MockService mock;
        mock.post("/users", Json::object());
        Poco::Net::HTTPClientSession first("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        Poco::Net::HTTPClientSession second("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        call(first, "POST", "/users?full=1", R"({"a":1})", "id-1");
        call(first, "POST", "/users", "", "id-2");
        call(second, "POST", "/users", "", "id-3");
        std::vector<MockCall> calls = mock.received("POST", "/users");
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), calls.size());
        CPPUNIT_ASSERT_EQUAL(std::string("POST"), calls[0].method);
        CPPUNIT_ASSERT_EQUAL(std::string("/users"), calls[0].path);
        CPPUNIT_ASSERT_EQUAL(std::string("full=1"), calls[0].query);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"a":1})"), calls[0].body);
        CPPUNIT_ASSERT_EQUAL(std::string("id-1"), calls[0].header("x-request-id"));
        CPPUNIT_ASSERT_EQUAL(std::string("id-3"), calls[2].header("X-Request-Id"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), calls[2].header("X-Absent"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), calls[0].connection);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), calls[1].connection);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), calls[2].connection);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), mock.connections());
    }

    void testDelay() {
        MockService mock;
        mock.get("/slow", Json::object()).delay(std::chrono::milliseconds(250));
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        auto start = std::chrono::steady_clock::now();
        CPPUNIT_ASSERT_EQUAL(200, call(session, "GET", "/slow").status);
        auto took = std::chrono::steady_clock::now() - start;
        CPPUNIT_ASSERT(took >= std::chrono::milliseconds(240) && took < std::chrono::milliseconds(1000));
    }

    // The second registration answers from scratch: no 503, no delay, no header left over.
    void testRegisterAgainReplacesAnswer() {
        MockService mock;
        mock.get("/h").status(503).header("X-Extra", "old").delay(std::chrono::milliseconds(400));
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        CPPUNIT_ASSERT_EQUAL(503, call(session, "GET", "/h").status);
        mock.get("/h", Json::object({{"id", 7}}));
        auto start = std::chrono::steady_clock::now();
        Answer answer = call(session, "GET", "/h");
        auto took = std::chrono::steady_clock::now() - start;
        CPPUNIT_ASSERT_EQUAL(200, answer.status);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":7})"), answer.body);
        CPPUNIT_ASSERT_EQUAL(std::string(""), answer.header);
        CPPUNIT_ASSERT(took < std::chrono::milliseconds(200));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), mock.calls("GET", "/h"));
    }

    void testDropConnection() {
        MockService mock;
        mock.get("/drop").dropConnection();
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        CPPUNIT_ASSERT_THROW(call(session, "GET", "/drop"), Poco::Net::NetException);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), mock.calls("GET", "/drop"));
    }

    void testResetAndStop() {
        MockService mock;
        mock.get("/a", Json::object());
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        call(session, "GET", "/a");
        mock.reset();
        CPPUNIT_ASSERT(mock.received().empty());
        CPPUNIT_ASSERT_EQUAL(404, call(session, "GET", "/a").status);
        // A delayed answer does not hold stop() up; afterwards connects are refused.
        mock.get("/slow", Json::object()).delay(std::chrono::seconds(30));
        Poco::Net::HTTPClientSession waiting("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        Poco::Net::HTTPRequest request("GET", "/slow", Poco::Net::HTTPMessage::HTTP_1_1);
        waiting.sendRequest(request).flush();  // the head stays buffered until flushed
        while (mock.calls("GET", "/slow") == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        auto start = std::chrono::steady_clock::now();
        mock.stop();
        CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
        mock.stop();  // idempotent
        Poco::Net::HTTPClientSession late("127.0.0.1", static_cast<Poco::UInt16>(mock.port()));
        CPPUNIT_ASSERT_THROW(call(late, "GET", "/a"), Poco::Net::ConnectionRefusedException);
    }

    void testBadRoute() {
        MockService mock;
        CPPUNIT_ASSERT_THROW(mock.get("hospitals"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(mock.get("/a?b=1"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(mock.get("/a").status(42), std::invalid_argument);
        MockService::Options halfTls;
        halfTls.certificateFile = "/tmp/cert.pem";
        CPPUNIT_ASSERT_THROW(MockService{halfTls}, std::invalid_argument);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MockServiceTest);
