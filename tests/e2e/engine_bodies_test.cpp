// Request bodies on the wire: a Content-Length body that trickles in, a chunked body with chunk
// extensions and a trailer, and Expect: 100-continue (RFC 9110 10.1.1).
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <cstdio>
#include <memory>
#include <string>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "engine_checks.h"
#include "http_probe.h"
#include "raw_connection.h"

namespace berth::test {
namespace {

constexpr std::size_t kMaxBody = 100000;
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

/// A JSON array of `count` numbers: a body whose every byte the echo shows.
std::string numbers(int count) {
    std::string json = "[";
    for (int i = 0; i < count; ++i) json += (i ? "," : "") + std::to_string(i * 7919 % 100003);
    return json + "]";
}

/// `data` as chunks of growing sizes, each size line with a chunk extension, and a trailer.
std::string chunked(const std::string& data) {
    static const char* const kExtensions[] = {"", ";ext", ";name=value", ";q=\"quoted value\"", " ;a=1;b=2"};
    std::string out;
    std::size_t at = 0;
    for (std::size_t size = 1, n = 0; at < data.size(); size = size % 97 + 1, ++n) {
        std::size_t take = std::min(size, data.size() - at);
        char hex[32];
        std::snprintf(hex, sizeof hex, n % 2 ? "%zX" : "%zx", take);
        out += std::string(hex) + kExtensions[n % 5] + "\r\n" + data.substr(at, take) + "\r\n";
        at += take;
    }
    return out + "0;last\r\nX-Checksum: 1234\r\nX-Other: trailer field\r\n\r\n";
}

std::string envelope(const std::string& data) {
    return R"({"status":true,"code":0,"message":"ok","data":)" + data + "}";
}

}  // namespace

class EngineBodiesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EngineBodiesTest);
    CPPUNIT_TEST(testContentLengthBodyInSlowPiecesArrivesWhole);
    CPPUNIT_TEST(testChunkedBodyWithExtensionsAndTrailerArrivesWhole);
    CPPUNIT_TEST(testExpectContinueComesBeforeTheBody);
    CPPUNIT_TEST(testExpectContinueWithTooLargeBodyIs413WithoutContinue);
    CPPUNIT_TEST(testUnknownExpectationIs417);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addFixture("slow");
        berthd_->addHelloPlugin();
        berthd_->set("http.max_body_bytes", std::to_string(kMaxBody));
        berthd_->set("http.header_timeout", "1");
        berthd_->set("http.body_timeout", "1");
        berthd_->start();
    }
    void tearDown() override { berthd_.reset(); }

    void testContentLengthBodyInSlowPiecesArrivesWhole() {
        // 20 pieces 80 ms apart: 1.5 s for the whole body, longer than http.body_timeout and
        // http.header_timeout (1 s), but never 1 s without a byte.
        const std::string body = numbers(500);
        const std::size_t piece = body.size() / 19 + 1;
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(
            c.send("POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nContent-Type: application/json\r\n"
                   "Content-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n"));
        CPPUNIT_ASSERT(c.sendSlowly(body, piece, 80));
        HttpResult r = c.readResponse(3000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(envelope(body), r.body);

        // The same on the route that only counts, with the header section in pieces too.
        const std::string head =
            "POST /slow/count HTTP/1.1\r\nHost: e2e\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n";
        CPPUNIT_ASSERT(c.sendSlowly(head, 7, 20));
        CPPUNIT_ASSERT(c.sendSlowly(body, piece, 80));
        r = c.readResponse(3000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::to_string(body.size()), r.body);
    }

    void testChunkedBodyWithExtensionsAndTrailerArrivesWhole() {
        const std::string body = numbers(3000);
        const std::string wire = chunked(body);
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(
            c.send("POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n"));
        // Split at odd places: inside size lines, extensions, data and the trailer.
        CPPUNIT_ASSERT(c.sendSlowly(wire, 1013, 5));
        HttpResult r = c.readResponse(3000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(envelope(body), r.body);

        CPPUNIT_ASSERT(c.send("POST /slow/count HTTP/1.1\r\nHost: e2e\r\nTransfer-Encoding: chunked\r\n\r\n" +
                              wire + "GET /slow/fast HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        r = c.readResponse(3000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::to_string(body.size()), r.body);
        // The trailer's end is where the next request starts.
        r = c.readResponse(3000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("fast"), r.body);
    }

    void testExpectContinueComesBeforeTheBody() {
        const std::string body = numbers(100);
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(
            c.send("POST /slow/count HTTP/1.1\r\nHost: e2e\r\nExpect: 100-continue\r\n"
                   "Content-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n"));
        CPPUNIT_ASSERT_MESSAGE("no 100 Continue before the body; received: " + c.pending(),
                               c.readUntil(kContinue, 500));
        CPPUNIT_ASSERT_EQUAL_MESSAGE("the 100 Continue must come first", std::size_t(0),
                                     c.pending().find(kContinue));
        HttpResult interim = c.readResponse(100);
        CPPUNIT_ASSERT_EQUAL(100, interim.status);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(c.pending(), std::string(), c.pending());
        CPPUNIT_ASSERT(c.send(body));
        HttpResult r = c.readResponse(2000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::to_string(body.size()), r.body);

        // And with a chunked body, on the same connection.
        CPPUNIT_ASSERT(
            c.send("POST /hello/echo HTTP/1.1\r\nHost: e2e\r\nExpect: 100-Continue\r\n"
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
        CPPUNIT_ASSERT_MESSAGE("no 100 Continue before a chunked body; received: " + c.pending(),
                               c.readUntil(kContinue, 500));
        CPPUNIT_ASSERT_EQUAL(100, c.readResponse(100).status);
        CPPUNIT_ASSERT(c.send(chunked(body)));
        r = c.readResponse(2000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(envelope(body), r.body);
    }

    void testExpectContinueWithTooLargeBodyIs413WithoutContinue() {
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(
            c.send("POST /slow/count HTTP/1.1\r\nHost: e2e\r\nExpect: 100-continue\r\n"
                   "Content-Length: " +
                   std::to_string(kMaxBody + 1) + "\r\n\r\n"));
        HttpResult r = c.readResponse(2000);
        E2E_ASSERT_ENVELOPE(413, r);
        CPPUNIT_ASSERT_MESSAGE("the connection stayed open after the 413", c.waitForClose(1000));
        E2E_ASSERT_NOT_CONTAINS(r.describe() + c.pending(), "100 Continue");
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testUnknownExpectationIs417() {
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(
            c.send("POST /slow/count HTTP/1.1\r\nHost: e2e\r\nExpect: 200-ok\r\n"
                   "Content-Length: 2\r\n\r\n{}"));
        HttpResult r = c.readResponse(2000);
        E2E_ASSERT_ENVELOPE(417, r);
        E2E_ASSERT_NOT_CONTAINS(r.describe() + c.pending(), "100 Continue");
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(EngineBodiesTest);

}  // namespace berth::test
