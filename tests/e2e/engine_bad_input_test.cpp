// Malformed and hostile requests on raw sockets, each answered with berthd's JSON error envelope
// and a close (the framing of whatever follows cannot be trusted), after which berthd serves on.
// The few valid oddities (absolute-form, OPTIONS *) are answered and the connection kept.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "engine_checks.h"
#include "http_probe.h"
#include "raw_connection.h"

namespace berth::test {
namespace {

constexpr std::size_t kMaxBody = 1000;
// The start of a TLS ClientHello: what a client that thinks it speaks HTTPS sends.
constexpr char kTlsHello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";

struct Case {
    std::string name;
    std::string bytes;
    std::set<int> statuses;  // any of these
};

std::string post(const std::string& headers, const std::string& body) {
    return "POST /slow/count HTTP/1.1\r\nHost: e2e\r\n" + headers + "\r\n" + body;
}

std::string chunkedPost(const std::string& body) {
    return post("Transfer-Encoding: chunked\r\n", body);
}

std::string withNul(std::string text) {
    text[text.find('@')] = '\0';
    return text;
}

std::string printable(const std::string& bytes) {
    std::string out;
    for (char c : bytes.substr(0, 300)) {
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\0')
            out += "\\0";
        else
            out += c;
    }
    return bytes.size() > 300 ? out + "..." : out;
}

}  // namespace

class EngineBadInputTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EngineBadInputTest);
    CPPUNIT_TEST(testMalformedRequestLines);
    CPPUNIT_TEST(testMalformedHeaderFields);
    CPPUNIT_TEST(testInvalidContentLengths);
    CPPUNIT_TEST(testInvalidTransferEncodings);
    CPPUNIT_TEST(testBrokenChunkedBodies);
    CPPUNIT_TEST(testHttp09RequestIsNotLeftHanging);
    CPPUNIT_TEST(testAbsoluteFormTargetIsServed);
    CPPUNIT_TEST(testOptionsAsteriskIs204);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addFixture("slow");
        berthd_->set("http.max_body_bytes", std::to_string(kMaxBody));
        berthd_->set("http.header_timeout", "1");
        berthd_->start();
    }
    void tearDown() override { berthd_.reset(); }

    /// Every case: one of its statuses as an error envelope, then the close, then /health.
    void refuseAll(const std::vector<Case>& cases) {
        for (const Case& c : cases) {
            const std::string what = c.name + " [" + printable(c.bytes) + "]";
            RawConnection connection(berthd_->port());
            CPPUNIT_ASSERT_MESSAGE(what, connection.send(c.bytes));
            HttpResult r;
            try {
                r = connection.readResponse(3000);
            } catch (const std::exception& e) {
                CPPUNIT_FAIL(what + ": " + e.what());
            }
            const int expected = c.statuses.count(r.status) ? r.status : *c.statuses.begin();
            E2E_ASSERT_ENVELOPE_MSG(expected, r, what);
            CPPUNIT_ASSERT_MESSAGE(what + ": the connection stayed open after " + std::to_string(r.status),
                                   connection.waitForClose(1000));
            CPPUNIT_ASSERT_MESSAGE(what + ": more after the error answer: " + printable(connection.pending()),
                                   connection.pending().empty());
            E2E_ASSERT_HEALTHY(berthd_->port());
        }
    }

    void testMalformedRequestLines() {
        refuseAll({
            {"garbage", "HELLO THERE\r\n\r\n", {400}},
            {"binary garbage", std::string(kTlsHello, sizeof kTlsHello - 1), {400}},
            {"HTTP/2.0", "GET /slow/fast HTTP/2.0\r\nHost: e2e\r\n\r\n", {505}},
            {"HTTP/0.9 with a blank line", "GET /slow/fast\r\n\r\n", {400, 505}},
            {"HTTP/3.1", "GET /slow/fast HTTP/3.1\r\nHost: e2e\r\n\r\n", {505}},
            {"lowercase version", "GET /slow/fast http/1.1\r\nHost: e2e\r\n\r\n", {400}},
            {"two spaces", "GET  /slow/fast HTTP/1.1\r\nHost: e2e\r\n\r\n", {400}},
            {"trailing space", "GET /slow/fast HTTP/1.1 \r\nHost: e2e\r\n\r\n", {400}},
            {"NUL in the target", withNul("GET /slow/f@st HTTP/1.1\r\nHost: e2e\r\n\r\n"), {400}},
            {"space in the target", "GET /slow/f st HTTP/1.1\r\nHost: e2e\r\n\r\n", {400}},
            {"bare LF line endings", "GET /slow/fast HTTP/1.1\nHost: e2e\n\n", {400}},
            {"one bare LF", "GET /slow/fast HTTP/1.1\r\nHost: e2e\n\r\n", {400}},
            {"20 KB request line",
             "GET /" + std::string(20 * 1024, 'a') + " HTTP/1.1\r\nHost: e2e\r\n\r\n",
             {414}},
            {"20 KB request line, no end yet", "GET /" + std::string(20 * 1024, 'a'), {414}},
        });
    }

    void testMalformedHeaderFields() {
        refuseAll({
            {"NUL in a header value",
             withNul("GET /slow/fast HTTP/1.1\r\nHost: e2e\r\nX-A: a@b\r\n\r\n"),
             {400}},
            {"CR in a header value", "GET /slow/fast HTTP/1.1\r\nHost: e2e\r\nX-A: a\rb\r\n\r\n", {400}},
            {"whitespace before the colon", "GET /slow/fast HTTP/1.1\r\nHost : e2e\r\n\r\n", {400}},
            {"tab before the colon", "GET /slow/fast HTTP/1.1\r\nHost: e2e\r\nX-A\t: b\r\n\r\n", {400}},
            {"obs-fold", "GET /slow/fast HTTP/1.1\r\nHost: e2e\r\nX-A: a\r\n b\r\n\r\n", {400}},
            {"obs-fold first", "GET /slow/fast HTTP/1.1\r\n Host: e2e\r\n\r\n", {400}},
            {"no colon", "GET /slow/fast HTTP/1.1\r\nHost: e2e\r\nX-A b\r\n\r\n", {400}},
            {"empty name", "GET /slow/fast HTTP/1.1\r\nHost: e2e\r\n: b\r\n\r\n", {400}},
            {"invalid name", "GET /slow/fast HTTP/1.1\r\nHost: e2e\r\nX(A): b\r\n\r\n", {400}},
            {"two Hosts", "GET /slow/fast HTTP/1.1\r\nHost: e2e\r\nHost: other\r\n\r\n", {400}},
        });
    }

    void testInvalidContentLengths() {
        refuseAll({
            {"negative", post("Content-Length: -5\r\n", "12345"), {400}},
            {"plus sign", post("Content-Length: +5\r\n", "12345"), {400}},
            {"hex", post("Content-Length: 0x10\r\n", "1234567890123456"), {400}},
            {"empty", post("Content-Length: \r\n", ""), {400}},
            {"list", post("Content-Length: 5, 5\r\n", "12345"), {400}},
            {"duplicated, equal", post("Content-Length: 5\r\nContent-Length: 5\r\n", "12345"), {400}},
            {"duplicated, different", post("Content-Length: 5\r\nContent-Length: 3\r\n", "12345"), {400}},
            {"inner space", post("Content-Length: 1 0\r\n", "1234567890"), {400}},
            {"20 digits", post("Content-Length: 99999999999999999999\r\n", "1"), {400}},
            {"2^64", post("Content-Length: 18446744073709551616\r\n", "1"), {400}},
            {"over the limit", post("Content-Length: " + std::to_string(kMaxBody + 1) + "\r\n", "1"), {413}},
            {"huge, over the limit", post("Content-Length: 9999999999999999999\r\n", "1"), {413}},
        });
    }

    void testInvalidTransferEncodings() {
        refuseAll({
            {"Content-Length and chunked",
             post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
             {400}},
            {"chunked and Content-Length",
             post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"),
             {400}},
            {"gzip", post("Transfer-Encoding: gzip\r\n", "0\r\n\r\n"), {400}},
            {"chunked, gzip", post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"), {400}},
            {"gzip, chunked", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), {501}},
            {"two fields",
             post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
             {400}},
            {"chunked in HTTP/1.0",
             "POST /slow/count HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             {400}},
        });
    }

    void testBrokenChunkedBodies() {
        refuseAll({
            {"size not hex", chunkedPost("zz\r\nabc\r\n0\r\n\r\n"), {400}},
            {"negative size", chunkedPost("-1\r\nabc\r\n0\r\n\r\n"), {400}},
            {"empty size line", chunkedPost("\r\nabc\r\n0\r\n\r\n"), {400}},
            {"size with 0x", chunkedPost("0x3\r\nabc\r\n0\r\n\r\n"), {400}},
            {"size overflowing 64 bits", chunkedPost("1ffffffffffffffff\r\nabc\r\n0\r\n\r\n"), {400, 413}},
            {"size line with a bare LF", chunkedPost("3\nabc\r\n0\r\n\r\n"), {400}},
            {"data not followed by CRLF", chunkedPost("3\r\nabcX\r\n0\r\n\r\n"), {400}},
            {"data followed by LF", chunkedPost("3\r\nabc\n0\r\n\r\n"), {400}},
            {"chunk over the body limit", chunkedPost("100000\r\nabc"), {413}},
            {"chunks over the body limit",
             chunkedPost("200\r\n" + std::string(0x200, 'a') + "\r\n200\r\n" + std::string(0x200, 'b') +
                         "\r\n0\r\n\r\n"),
             {413}},
            {"control character in an extension", chunkedPost("3;a=\x01\r\nabc\r\n0\r\n\r\n"), {400}},
            {"bad trailer field", chunkedPost("3\r\nabc\r\n0\r\nX A: b\r\n\r\n"), {400}},
        });
    }

    void testHttp09RequestIsNotLeftHanging() {
        // An HTTP/0.9 request is one line; its client waits for an answer, not for a blank line.
        // berthd either refuses it once the line is there, or by http.header_timeout (1 s).
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(c.send("GET /slow/fast\r\n"));
        HttpResult r = c.readResponse(3000);
        CPPUNIT_ASSERT_MESSAGE(r.describe(), r.status == 400 || r.status == 408 || r.status == 505);
        E2E_ASSERT_ENVELOPE(r.status, r);
        CPPUNIT_ASSERT(c.waitForClose(1000));
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testAbsoluteFormTargetIsServed() {
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(c.send(
            "GET http://e2e/slow/fast HTTP/1.1\r\nHost: e2e\r\n\r\n"
            "POST http://e2e:80/slow/count?x=1 HTTP/1.1\r\nHost: e2e\r\nContent-Length: 3\r\n\r\nabc"));
        HttpResult r = c.readResponse(2000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::string("fast"), r.body);
        r = c.readResponse(2000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::string("3"), r.body);
        CPPUNIT_ASSERT(!c.closedByPeer());
    }

    void testOptionsAsteriskIs204() {
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(
            c.send("OPTIONS * HTTP/1.1\r\nHost: e2e\r\n\r\nGET /slow/fast HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        HttpResult r = c.readResponse(2000);
        E2E_ASSERT_STATUS(204, r);
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.header("Allow").empty());
        CPPUNIT_ASSERT_MESSAGE(r.describe(), r.body.empty() && !r.has("Content-Length"));
        // A 204 has no body: the next bytes are the next answer.
        r = c.readResponse(2000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("fast"), r.body);
        // Only OPTIONS may use *; the request is well framed, so the connection stays usable.
        CPPUNIT_ASSERT(
            c.send("GET * HTTP/1.1\r\nHost: e2e\r\n\r\nGET /slow/fast HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        E2E_ASSERT_ENVELOPE(400, c.readResponse(2000));
        CPPUNIT_ASSERT_EQUAL(std::string("fast"), c.readResponse(2000).body);
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(EngineBadInputTest);

}  // namespace berth::test
