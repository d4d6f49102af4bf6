// HTTP/1.1 message framing on the wire (RFC 9112), where a server that disagrees with a proxy
// in front of it about where a request ends lets one client smuggle requests into another's
// connection. Raw sockets throughout: Poco's client would not send these.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <time.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "http_probe.h"

namespace berth::test {
namespace {

constexpr int kAnswerTimeoutMs = 2000;
constexpr std::size_t kMaxBody = 64;

std::string describe(const RawAnswer& answer) {
    return "received " + std::to_string(answer.bytes.size()) + " bytes, " +
           (answer.closed ? "then the connection closed" : "and the connection stayed open") + ":\n" +
           answer.bytes;
}

std::string greetingOf(const HttpResult& r) {
    return r.json()->getObject("data")->getValue<std::string>("greeting");
}

}  // namespace

class HttpFramingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HttpFramingTest);
    CPPUNIT_TEST(testPipelinedRequestsAreAnsweredInOrder);
    CPPUNIT_TEST(testHttp10RequestIsAnsweredAndClosed);
    CPPUNIT_TEST(testRestOfOversizedBodyIsNeverReadAsRequest);
    CPPUNIT_TEST(testConflictingContentLengthsAre400);
    CPPUNIT_TEST(testInvalidContentLengthIs400);
    CPPUNIT_TEST(testChunkedWithContentLengthIsRefusedOrClosed);
    CPPUNIT_TEST(testUnknownTransferCodingIs400AndCloses);
    CPPUNIT_TEST(testAbsoluteFormTargetIsAccepted);
    CPPUNIT_TEST(testHttp11RequestWithoutHostIs400);
    CPPUNIT_TEST(testDateHeaderIsCurrentAndKeepsUp);
    CPPUNIT_TEST(testRefusedRequestIsLogged);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addHelloPlugin();
        berthd_->set("http.max_body_bytes", std::to_string(kMaxBody));
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port(), kAnswerTimeoutMs);
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
    }

    void testPipelinedRequestsAreAnsweredInOrder() {
        RawAnswer answer = http_->exchange(
            "GET /hello/greet/first HTTP/1.1\r\nHost: e2e\r\n\r\n"
            "POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: 7\r\n\r\n[1,2,3]"
            "GET /hello/greet/third HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n");
        std::vector<HttpResult> responses = answer.responses();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(answer), std::size_t(3), responses.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, first!"), greetingOf(responses[0]));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":[1,2,3]})"),
                             responses[1].body);
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, third!"), greetingOf(responses[2]));
        CPPUNIT_ASSERT_MESSAGE(describe(answer), answer.closed);
    }

    void testHttp10RequestIsAnsweredAndClosed() {
        RawAnswer answer = http_->exchange("GET /hello/greet/old HTTP/1.0\r\n\r\n");
        CPPUNIT_ASSERT_MESSAGE("an HTTP/1.0 connection closes after the answer; " + describe(answer),
                               answer.closed);
        std::vector<HttpResult> responses = answer.responses();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(answer), std::size_t(1), responses.size());
        E2E_ASSERT_STATUS(200, responses[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, old!"), greetingOf(responses[0]));
    }

    void testRestOfOversizedBodyIsNeverReadAsRequest() {
        // The announced body is refused unread; what follows on the wire is that body, not a request.
        const std::string smuggled = "GET /hello/greet/smuggled HTTP/1.1\r\nHost: e2e\r\n\r\n";
        RawAnswer answer = http_->exchange(
            "POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: 1000\r\n\r\n" + smuggled);
        CPPUNIT_ASSERT_MESSAGE(describe(answer), answer.closed);
        std::vector<HttpResult> responses = answer.responses();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(answer), std::size_t(1), responses.size());
        E2E_ASSERT_STATUS(413, responses[0]);
        E2E_ASSERT_NOT_CONTAINS(answer.bytes, "smuggled");
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testConflictingContentLengthsAre400() {
        // RFC 9112 6.3: differing Content-Length values make the framing invalid: 400, then close.
        // GET /hello/greet ignores its body, so neither length can turn the answer into a 400 by luck.
        RawAnswer answer = http_->exchange(
            "GET /hello/greet/x HTTP/1.1\r\nHost: e2e\r\nContent-Length: 2\r\nContent-Length: 7\r\n"
            "Connection: close\r\n\r\n[1,2,3]");
        std::vector<HttpResult> responses = answer.responses();
        CPPUNIT_ASSERT_MESSAGE("no answer; " + describe(answer), !responses.empty());
        E2E_ASSERT_STATUS(400, responses[0]);
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testInvalidContentLengthIs400() {
        for (const std::string length : {"abc", "-1", "0x10", "1e3"}) {
            RawAnswer answer =
                http_->exchange("POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: " + length +
                                "\r\nConnection: close\r\n\r\n{}");
            CPPUNIT_ASSERT_MESSAGE("Content-Length: " + length + " got no answer; " + describe(answer),
                                   !answer.bytes.empty());
            HttpResult r = answer.responses().at(0);
            CPPUNIT_ASSERT_EQUAL_MESSAGE("Content-Length: " + length + "\n" + r.describe(), 400, r.status);
            E2E_ASSERT_HEALTHY(berthd_->port());
        }
    }

    void testChunkedWithContentLengthIsRefusedOrClosed() {
        // RFC 9112 6.1: a server may process such a request by Transfer-Encoding alone, but must
        // close the connection after answering (or refuse it with 400).
        RawAnswer answer = http_->exchange(
            "POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nContent-Length: 3\r\nTransfer-Encoding: "
            "chunked\r\n\r\n"
            "2\r\n{}\r\n0\r\n\r\n");
        std::vector<HttpResult> responses = answer.responses();
        CPPUNIT_ASSERT_MESSAGE("no answer; " + describe(answer), !responses.empty());
        CPPUNIT_ASSERT_MESSAGE("answered and kept the connection open; " + describe(answer),
                               responses[0].status == 400 || answer.closed);
    }

    void testUnknownTransferCodingIs400AndCloses() {
        // RFC 9112 6.1: chunked not last → the body length cannot be determined: 400, then close.
        // Reading no body and carrying on would run the body as the next request.
        RawAnswer answer = http_->exchange(
            "POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: gzip\r\n\r\n"
            "GET /hello/greet/smuggled HTTP/1.1\r\nHost: e2e\r\n\r\n");
        std::vector<HttpResult> responses = answer.responses();
        CPPUNIT_ASSERT_MESSAGE("no answer; " + describe(answer), !responses.empty());
        CPPUNIT_ASSERT_MESSAGE(describe(answer), responses[0].status == 400 || responses[0].status == 501);
        E2E_ASSERT_NOT_CONTAINS(answer.bytes, "smuggled");
        CPPUNIT_ASSERT_MESSAGE(describe(answer), answer.closed);
    }

    void testAbsoluteFormTargetIsAccepted() {
        // RFC 9112 3.2.2: "A server MUST accept the absolute-form in requests."
        const std::string authority = "127.0.0.1:" + std::to_string(berthd_->port());
        HttpResult r = http_->raw("GET http://" + authority + "/hello/greet/absolute?x=1 HTTP/1.1\r\nHost: " +
                                  authority + "\r\nConnection: close\r\n\r\n");
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::string("Hello, absolute!"), greetingOf(r));
    }

    void testHttp11RequestWithoutHostIs400() {
        // RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request) status code to any
        // HTTP/1.1 request message that lacks a Host header field".
        HttpResult r = http_->raw("GET /hello/greet/x HTTP/1.1\r\nConnection: close\r\n\r\n");
        E2E_ASSERT_STATUS(400, r);
    }

    // The Date header is cached per second: it must still be an IMF-fixdate of the current time,
    // and a later second must show in a later answer.
    void testDateHeaderIsCurrentAndKeepsUp() {
        const std::regex imfFixdate(
            R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} )"
            R"(\d{2}:\d{2}:\d{2} GMT)");
        auto dateOf = [&](const HttpResult& r) {
            std::string date = r.header("Date");
            CPPUNIT_ASSERT_MESSAGE(r.describe(), std::regex_match(date, imfFixdate));
            std::tm parsed{};
            CPPUNIT_ASSERT(strptime(date.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parsed) != nullptr);
            return timegm(&parsed);
        };
        std::time_t first = dateOf(http_->get("/health"));
        CPPUNIT_ASSERT_MESSAGE("Date is off by more than 2 s", std::labs(std::time(nullptr) - first) <= 2);
        std::this_thread::sleep_for(std::chrono::milliseconds(2100));
        std::time_t second = dateOf(http_->get("/health"));
        CPPUNIT_ASSERT_MESSAGE("Date did not move on", second >= first + 2);
    }

    // A refusal is answered and also reported in berthd's log (rate-limited, the first at once).
    void testRefusedRequestIsLogged() {
        HttpResult answer = http_->raw("GET /health HTTP/1.1\r\nHost: e2e\r\nBad Header: x\r\n\r\n");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(answer.describe(), 400, answer.status);
        CPPUNIT_ASSERT_MESSAGE(berthd_->log(),
                               berthd_->waitForLog("latest: 400 whitespace between a header name", 3000));
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(HttpFramingTest);

}  // namespace berth::test
