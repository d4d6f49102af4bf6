// RequestParser (RFC 9112) driven the way Connection drives it: parse() is called with the whole
// message received so far each time more bytes arrive (the buffer may have moved: spans are
// offsets), HeadersDone comes once when a body is still to come and parse() is then called again
// at once with the same bytes, NeedMore/Complete follow, and consumed() tells where the next
// pipelined message starts (Connection drops those bytes and calls reset()).
//
// Every table row is parsed three ways: the whole message in one call, one byte more per call,
// and in random splits; the three must agree on everything the connection reads. Where an
// answer depends on how TCP happened to cut the bytes, a test names it.
//
// Not the parser's job (and so refused here): empty lines before the request line. RFC 9112 2.2
// lets a server ignore them, and Connection::process skips every CRLF before a message starts,
// so the parser only ever sees such bytes when a lone CR arrived first (see testLeadingEmptyLine).
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/request.h"
#include "http/request_parser.h"

using berth::Method;
using berth::methodName;
using berth::server::ParserLimits;
using berth::server::RequestParser;
using Status = RequestParser::Status;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// What Connection::readSome buffers at most for one message: maxHeaderBytes + maxBodyBytes +
// kReadChunk (connection.cpp). Past that it stops reading and counts on the parser to have refused.
constexpr std::size_t kConnectionReadChunk = 16 * 1024;

const char* statusName(Status status) {
    switch (status) {
        case Status::NeedMore:
            return "NeedMore";
        case Status::HeadersDone:
            return "HeadersDone";
        case Status::Complete:
            return "Complete";
        case Status::Error:
            return "Error";
    }
    return "?";
}

/// The bytes with CR, LF, TAB and anything unprintable escaped; long texts are cut.
std::string printable(std::string_view bytes, std::size_t max = 160) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (out.size() >= max) {
            out += "...(" + std::to_string(bytes.size()) + " bytes)";
            break;
        }
        auto c = static_cast<unsigned char>(bytes[i]);
        if (c == '\r')
            out += "\\r";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\\')
            out += "\\\\";
        else if (c < 0x20 || c >= 0x7f) {
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
        } else
            out.push_back(static_cast<char>(c));
    }
    return out;
}

/// Everything the connection reads from the parser after feeding it one message.
struct Outcome {
    Status status = Status::NeedMore;
    int headersDone = 0;  // how many times HeadersDone came
    int errorStatus = 0;
    std::string errorDetail;
    std::string methodText;
    Method method = Method::Other;
    std::string target;
    int minor = -1;
    Fields fields;
    bool keepAlive = false;
    bool expectsContinue = false;
    bool expectsBody = false;
    std::string body;
    std::size_t consumed = 0;

    /// One line per property: comparing these compares outcomes, and a mismatch reads well.
    std::string describe() const {
        std::string out =
            std::string("status=") + statusName(status) + " headersDone=" + std::to_string(headersDone);
        if (status == Status::Error)
            out += " error=" + std::to_string(errorStatus) + " '" + errorDetail + "'";
        out += "\nmethod=" + printable(methodText) + " (" + methodName(method) +
               ") target=" + printable(target) + " minor=" + std::to_string(minor);
        out += "\nfields=";
        for (const auto& [name, value] : fields) out += "[" + printable(name) + ": " + printable(value) + "]";
        out += "\nkeepAlive=" + std::to_string(keepAlive) +
               " expectsContinue=" + std::to_string(expectsContinue) +
               " expectsBody=" + std::to_string(expectsBody);
        if (status == Status::Complete) {
            out += "\nbody(" + std::to_string(body.size()) + ", hash " +
                   std::to_string(std::hash<std::string>()(body)) + ")=" + printable(body, 64);
            out += " consumed=" + std::to_string(consumed);
        }
        return out + "\n";
    }
};

/// Calls parse() with growing prefixes of `bytes`, ending at each of `cuts` in turn, as
/// Connection::process does: after HeadersDone it calls parse() again with the same bytes. Each
/// call gets a fresh copy of exactly the prefix (the connection's buffer moves when it grows),
/// so a parser that kept a pointer, or read past `size`, would show. Stops at Complete or Error.
Outcome feed(std::string_view bytes, const std::vector<std::size_t>& cuts, const ParserLimits& limits) {
    RequestParser parser(limits);
    Outcome out;
    std::unique_ptr<char[]> buffer;
    std::size_t size = 0;
    for (std::size_t cut : cuts) {
        buffer.reset(new char[std::max<std::size_t>(cut, 1)]);
        if (cut > 0) std::memcpy(buffer.get(), bytes.data(), cut);
        size = cut;
        out.status = parser.parse(buffer.get(), size);
        if (out.status == Status::HeadersDone) {
            ++out.headersDone;
            out.status = parser.parse(buffer.get(), size);
            if (out.status == Status::HeadersDone) ++out.headersDone;  // a second one is a bug
        }
        if (out.status == Status::Complete || out.status == Status::Error) break;
    }
    const char* data = buffer.get();
    auto view = [&](RequestParser::Span span) { return std::string(data + span.offset, span.length); };
    out.errorStatus = parser.errorStatus();
    out.errorDetail = parser.errorDetail();
    out.method = parser.method();
    out.methodText = data != nullptr ? view(parser.methodText()) : "";
    out.target = data != nullptr ? view(parser.target()) : "";
    out.minor = parser.minorVersion();
    for (const RequestParser::Field& field : parser.fields())
        out.fields.emplace_back(view(field.name), view(field.value));
    out.keepAlive = parser.keepAlive();
    out.expectsContinue = parser.expectsContinue();
    out.expectsBody = parser.expectsBody();
    if (out.status == Status::Complete) {
        out.body = std::string(parser.body(data));
        out.consumed = parser.consumed();
    }
    return out;
}

Outcome parseWhole(std::string_view bytes, const ParserLimits& limits) {
    return feed(bytes, {bytes.size()}, limits);
}

Outcome parseByteByByte(std::string_view bytes, const ParserLimits& limits) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i <= bytes.size(); ++i) cuts.push_back(i);
    return feed(bytes, cuts, limits);
}

/// 1 to 8 random cut points (sorted), then the whole.
std::vector<std::size_t> randomCuts(std::size_t size, std::mt19937& rng) {
    std::vector<std::size_t> cuts;
    if (size > 1) {
        std::uniform_int_distribution<std::size_t> count(1, std::min<std::size_t>(8, size - 1));
        std::uniform_int_distribution<std::size_t> at(1, size - 1);
        for (std::size_t n = count(rng); n > 0; --n) cuts.push_back(at(rng));
        std::sort(cuts.begin(), cuts.end());
        cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    }
    cuts.push_back(size);
    return cuts;
}

/// The whole-message outcome, after checking that byte-by-byte and 24 random splits agree with it.
Outcome parseEveryWay(const std::string& name, std::string_view bytes, const ParserLimits& limits) {
    Outcome whole = parseWhole(bytes, limits);
    const std::string label = name + " [" + printable(bytes, 100) + "]";
    CPPUNIT_ASSERT_EQUAL_MESSAGE(label + ": fed one byte at a time", whole.describe(),
                                 parseByteByByte(bytes, limits).describe());
    std::mt19937 rng(static_cast<std::uint32_t>(std::hash<std::string>()(name)));
    for (int round = 0; round < 24; ++round) {
        std::vector<std::size_t> cuts = randomCuts(bytes.size(), rng);
        std::string where;
        for (std::size_t cut : cuts) where += " " + std::to_string(cut);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(label + ": fed in prefixes ending at" + where, whole.describe(),
                                     feed(bytes, cuts, limits).describe());
    }
    return whole;
}

ParserLimits limitsOf(std::size_t headerBytes, std::size_t headerCount, std::size_t bodyBytes) {
    ParserLimits limits;
    limits.maxHeaderBytes = headerBytes;
    limits.maxHeaderCount = headerCount;
    limits.maxBodyBytes = bodyBytes;
    return limits;
}

const ParserLimits kDefaults{};

/// "GET <target> HTTP/1.1" padded in its target to exactly `length` bytes.
std::string requestLineOf(std::size_t length) {
    const std::string fixed = "GET / HTTP/1.1";
    return "GET /" + std::string(length - fixed.size(), 'a') + " HTTP/1.1";
}

struct Valid {
    std::string name;
    std::string bytes;
    std::string methodText;
    Method method;
    std::string target;
    int minor;
    bool keepAlive;
    Fields fields;
    std::string body;
    bool expectsContinue = false;
};

struct Refusal {
    std::string name;
    std::string bytes;
    int status;
    std::string detail;
    ParserLimits limits = {};
    bool afterHead = false;  // refused in the body (so after HeadersDone)
};

std::string withBody(const std::string& head, const std::string& body) {
    return head + "\r\n" + body;
}

const std::string kChunkedHead = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

}  // namespace

class RequestParserTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RequestParserTest);
    CPPUNIT_TEST(testValidRequests);
    CPPUNIT_TEST(testKeepAliveRules);
    CPPUNIT_TEST(testFieldValuesAndSpans);
    CPPUNIT_TEST(testRefusals);
    CPPUNIT_TEST(testRefusalIsFinal);
    CPPUNIT_TEST(testLeadingEmptyLine);
    CPPUNIT_TEST(testNeedMoreUntilTheHeadEnds);
    CPPUNIT_TEST(testLimitsExactlyAtTheLimitAccepted);
    CPPUNIT_TEST(testContentLengthBody);
    CPPUNIT_TEST(testHeadersDoneOnceThenNeedMoreThenComplete);
    CPPUNIT_TEST(testExpectContinueSeenBeforeTheBody);
    CPPUNIT_TEST(testChunkedBodies);
    CPPUNIT_TEST(testChunkedRefusals);
    CPPUNIT_TEST(testChunkedBodyAtTheLimit);
    CPPUNIT_TEST(testPipelinedMessagesBackToBack);
    CPPUNIT_TEST(testPipelinedMessagesByteByByte);
    CPPUNIT_TEST(testResetForgetsTheMessage);
    CPPUNIT_TEST(testRequestLineAtTheLimitAcceptedWhateverTheSplit);
    CPPUNIT_TEST(testOverlongChunkSizeLineRefusedWhateverTheSplit);
    CPPUNIT_TEST(testTrailerAtTheLimitAcceptedWhateverTheSplit);
    CPPUNIT_TEST(testHeadWithMuchWhitespaceSameAnswerWhateverTheSplit);
    CPPUNIT_TEST(testChunkedOverheadBoundedForTheConnection);
    CPPUNIT_TEST(testUnfinishedHeadBoundedForTheConnection);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testValidRequests() {
        const std::vector<Valid> table = {
            {"curl GET",
             "GET / HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
             "GET",
             Method::Get,
             "/",
             1,
             true,
             {{"Host", "localhost:8080"}, {"User-Agent", "curl/7.88.1"}, {"Accept", "*/*"}},
             ""},
            {"POST",
             withBody("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n", "{}"),
             "POST",
             Method::Post,
             "/p",
             1,
             true,
             {{"Host", "h"}, {"Content-Length", "2"}},
             "{}"},
            {"PUT",
             "PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
             "PUT",
             Method::Put,
             "/p",
             1,
             true,
             {{"Host", "h"}, {"Content-Length", "0"}},
             ""},
            {"PATCH",
             "PATCH /p HTTP/1.1\r\nHost: h\r\n\r\n",
             "PATCH",
             Method::Patch,
             "/p",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"DELETE",
             "DELETE /p/1 HTTP/1.1\r\nHost: h\r\n\r\n",
             "DELETE",
             Method::Delete,
             "/p/1",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"HEAD",
             "HEAD /p HTTP/1.1\r\nHost: h\r\n\r\n",
             "HEAD",
             Method::Head,
             "/p",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"OPTIONS",
             "OPTIONS /p HTTP/1.1\r\nHost: h\r\n\r\n",
             "OPTIONS",
             Method::Options,
             "/p",
             1,
             true,
             {{"Host", "h"}},
             ""},
            // Methods are case-sensitive tokens: anything else is Method::Other, named as sent.
            {"unknown method",
             "PROPFIND /dav HTTP/1.1\r\nHost: h\r\n\r\n",
             "PROPFIND",
             Method::Other,
             "/dav",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"lower-case get is not GET",
             "get / HTTP/1.1\r\nHost: h\r\n\r\n",
             "get",
             Method::Other,
             "/",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"method of every tchar",
             "!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\nHost: h\r\n\r\n",
             "!#$%&'*+-.^_`|~09azAZ",
             Method::Other,
             "/",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"GETX is not GET",
             "GETX / HTTP/1.1\r\nHost: h\r\n\r\n",
             "GETX",
             Method::Other,
             "/",
             1,
             true,
             {{"Host", "h"}},
             ""},
            // Targets: the parser hands over the raw target; the connection maps absolute-form.
            {"origin-form with query",
             "GET /a/b%20c?x=1&y=%C3%A9&z HTTP/1.1\r\nHost: h\r\n\r\n",
             "GET",
             Method::Get,
             "/a/b%20c?x=1&y=%C3%A9&z",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"absolute-form",
             "GET http://example.com:8080/a?b=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
             "GET",
             Method::Get,
             "http://example.com:8080/a?b=1",
             1,
             true,
             {{"Host", "example.com:8080"}},
             ""},
            {"asterisk-form",
             "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
             "OPTIONS",
             Method::Options,
             "*",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"authority-form (CONNECT) passes the parser",
             "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
             "CONNECT",
             Method::Other,
             "h:443",
             1,
             true,
             {{"Host", "h:443"}},
             ""},
            {"every visible ASCII byte in the target",
             "GET /!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~ HTTP/1.1\r\nHost: h\r\n\r\n",
             "GET",
             Method::Get,
             "/!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~",
             1,
             true,
             {{"Host", "h"}},
             ""},
            // Versions: HTTP/1.0 needs no Host; any HTTP/1.x is served as HTTP/1.1 (RFC 9110 2.5).
            {"HTTP/1.0 without Host",
             "GET /old HTTP/1.0\r\n\r\n",
             "GET",
             Method::Get,
             "/old",
             0,
             false,
             {},
             ""},
            {"HTTP/1.0 with Host",
             "GET /old HTTP/1.0\r\nHost: h\r\n\r\n",
             "GET",
             Method::Get,
             "/old",
             0,
             false,
             {{"Host", "h"}},
             ""},
            {"HTTP/1.9 is HTTP/1.x",
             "GET / HTTP/1.9\r\nHost: h\r\n\r\n",
             "GET",
             Method::Get,
             "/",
             9,
             true,
             {{"Host", "h"}},
             ""},
            {"no header but Host",
             "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
             "GET",
             Method::Get,
             "/",
             1,
             true,
             {{"Host", "h"}},
             ""},
            {"empty Host value (RFC 9112 3.2)",
             "GET / HTTP/1.1\r\nHost:\r\n\r\n",
             "GET",
             Method::Get,
             "/",
             1,
             true,
             {{"Host", ""}},
             ""},
            {"host name case-insensitive",
             "GET / HTTP/1.1\r\nhOsT: h\r\n\r\n",
             "GET",
             Method::Get,
             "/",
             1,
             true,
             {{"hOsT", "h"}},
             ""},
            {"Expect: 100-continue",
             withBody("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n", "abc"),
             "PUT",
             Method::Put,
             "/f",
             1,
             true,
             {{"Host", "h"}, {"Expect", "100-Continue"}, {"Content-Length", "3"}},
             "abc",
             true},
            {"Content-Length with leading zeros",
             withBody("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0003\r\n", "xyz"),
             "POST",
             Method::Post,
             "/",
             1,
             true,
             {{"Host", "h"}, {"Content-Length", "0003"}},
             "xyz"},
            {"binary body is not looked at",
             withBody("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n",
                      std::string("a\nb\0c\r\xff\n", 8)),
             "POST",
             Method::Post,
             "/",
             1,
             true,
             {{"Host", "h"}, {"Content-Length", "8"}},
             std::string("a\nb\0c\r\xff\n", 8)},
            {"Transfer-Encoding: chunked",
             kChunkedHead + "3\r\nabc\r\n0\r\n\r\n",
             "POST",
             Method::Post,
             "/up",
             1,
             true,
             {{"Host", "h"}, {"Transfer-Encoding", "chunked"}},
             "abc"},
            {"Transfer-Encoding: CHUNKED",
             "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  CHUNKED \r\n\r\n1\r\nz\r\n0\r\n\r\n",
             "POST",
             Method::Post,
             "/",
             1,
             true,
             {{"Host", "h"}, {"Transfer-Encoding", "CHUNKED"}},
             "z"},
            {"browser GET with 10 headers",
             "GET /api/items?page=2 HTTP/1.1\r\nHost: app.example.com\r\nConnection: keep-alive\r\n"
             "sec-ch-ua: \"Chromium\";v=\"124\"\r\nsec-ch-ua-mobile: ?0\r\nUser-Agent: Mozilla/5.0 (X11; "
             "Linux x86_64)\r\n"
             "Accept: application/json, text/plain, */*\r\nOrigin: https://app.example.com\r\n"
             "Referer: https://app.example.com/items\r\nAccept-Encoding: gzip, deflate, br\r\n"
             "Accept-Language: en-US,en;q=0.9\r\n\r\n",
             "GET",
             Method::Get,
             "/api/items?page=2",
             1,
             true,
             {{"Host", "app.example.com"},
              {"Connection", "keep-alive"},
              {"sec-ch-ua", "\"Chromium\";v=\"124\""},
              {"sec-ch-ua-mobile", "?0"},
              {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"},
              {"Accept", "application/json, text/plain, */*"},
              {"Origin", "https://app.example.com"},
              {"Referer", "https://app.example.com/items"},
              {"Accept-Encoding", "gzip, deflate, br"},
              {"Accept-Language", "en-US,en;q=0.9"}},
             ""},
        };
        for (const Valid& row : table) {
            Outcome got = parseEveryWay(row.name, row.bytes, kDefaults);
            const std::string& n = row.name;
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n + ": " + got.describe(), std::string("Complete"),
                                         std::string(statusName(got.status)));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, row.methodText, got.methodText);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, std::string(methodName(row.method)),
                                         std::string(methodName(got.method)));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, row.target, got.target);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, row.minor, got.minor);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, row.keepAlive, got.keepAlive);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, row.expectsContinue, got.expectsContinue);
            CPPUNIT_ASSERT_MESSAGE(n, row.fields == got.fields);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, row.body, got.body);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, row.bytes.size(), got.consumed);
            // HeadersDone comes exactly once when a body follows the head, never otherwise.
            bool body = row.bytes.find("Content-Length: 0\r") == std::string::npos &&
                        (row.bytes.find("Content-Length") != std::string::npos ||
                         row.bytes.find("Transfer-Encoding") != std::string::npos);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, body, got.expectsBody);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(n, body ? 1 : 0, got.headersDone);
        }
    }

    void testKeepAliveRules() {
        struct Row {
            std::string version;
            std::vector<std::string> connection;  // one Connection field each
            bool keepAlive;
        };
        const std::vector<Row> table = {
            {"1.1", {}, true},
            {"1.1", {"close"}, false},
            {"1.1", {"Close"}, false},
            {"1.1", {"CLOSE"}, false},
            {"1.1", {"keep-alive"}, true},
            {"1.1", {"keep-alive, close"}, false},
            {"1.1", {"close, keep-alive"}, false},
            {"1.1", {"Upgrade,  close  "}, false},
            {"1.1", {"upgrade,\tclose\t,foo"}, false},
            {"1.1", {"closed"}, true},
            {"1.1", {"close-ish"}, true},
            {"1.1", {"x-close"}, true},
            {"1.1", {"keep-alive"}, true},
            {"1.1", {""}, true},
            {"1.1", {",,,"}, true},
            {"1.1", {"keep-alive", "close"}, false},
            {"1.0", {}, false},
            {"1.0", {"keep-alive"}, true},
            {"1.0", {"Keep-Alive"}, true},
            {"1.0", {"foo, keep-alive"}, true},
            {"1.0", {" keep-alive ,"}, true},
            {"1.0", {"keep-alive, close"}, false},
            {"1.0", {"close"}, false},
            {"1.0", {"keep-alive", "close"}, false},
            {"1.0", {"keep-alives"}, false},
            {"1.0", {"keep alive"}, false},
        };
        for (const Row& row : table) {
            std::string bytes = "GET / HTTP/" + row.version + "\r\nHost: h\r\n";
            std::string name = "HTTP/" + row.version;
            for (const std::string& value : row.connection) {
                bytes += "Connection: " + value + "\r\n";
                name += " Connection: '" + value + "'";
            }
            bytes += "\r\n";
            Outcome got = parseEveryWay(name, bytes, kDefaults);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name + ": " + got.describe(), std::string("Complete"),
                                         std::string(statusName(got.status)));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, row.keepAlive, got.keepAlive);
        }
    }

    void testFieldValuesAndSpans() {
        const std::string bytes = std::string("GET / HTTP/1.1\r\n") +
                                  "Host: \t h \t \r\n"                    // OWS both sides
                                  "X-None:\r\n"                           // empty
                                  "X-Blank:  \t \r\n"                     // only OWS: empty
                                  "X-Tight:v\r\n"                         // no OWS
                                  "X-Inner: a  b\tc\r\n"                  // inner whitespace kept
                                  "X-Obs-Text: caf\xc3\xa9 \x80\xff\r\n"  // obs-text kept as is
                                  "X-Dup: 1\r\n"
                                  "x-dup: 2\r\n"  // repeated fields kept in order
                                  "X-Quote: \"a,b\";q=0.5\r\n"
                                  "X-Colon: a:b::c\r\n"
                                  "!#$%&'*+-.^_`|~09: tchar name\r\n"
                                  "\r\n";
        Outcome got = parseEveryWay("field values", bytes, kDefaults);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(got.describe(), std::string("Complete"),
                                     std::string(statusName(got.status)));
        const Fields expected = {{"Host", "h"},
                                 {"X-None", ""},
                                 {"X-Blank", ""},
                                 {"X-Tight", "v"},
                                 {"X-Inner", "a  b\tc"},
                                 {"X-Obs-Text", "caf\xc3\xa9 \x80\xff"},
                                 {"X-Dup", "1"},
                                 {"x-dup", "2"},
                                 {"X-Quote", "\"a,b\";q=0.5"},
                                 {"X-Colon", "a:b::c"},
                                 {"!#$%&'*+-.^_`|~09", "tchar name"}};
        CPPUNIT_ASSERT_EQUAL(expected.size(), got.fields.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CPPUNIT_ASSERT_EQUAL(expected[i].first, got.fields[i].first);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(expected[i].first, printable(expected[i].second),
                                         printable(got.fields[i].second));
        }
        // Spans are offsets into the buffer: they point at the bytes themselves.
        RequestParser parser(kDefaults);
        CPPUNIT_ASSERT(parser.parse(bytes.data(), bytes.size()) == Status::Complete);
        CPPUNIT_ASSERT_EQUAL(0u, parser.methodText().offset);
        CPPUNIT_ASSERT_EQUAL(3u, parser.methodText().length);
        CPPUNIT_ASSERT_EQUAL(4u, parser.target().offset);
        CPPUNIT_ASSERT_EQUAL(1u, parser.target().length);
        CPPUNIT_ASSERT_EQUAL(16u, parser.fields()[0].name.offset);
        CPPUNIT_ASSERT_EQUAL(static_cast<std::uint32_t>(bytes.find("h \t \r\n")),
                             parser.fields()[0].value.offset);
        CPPUNIT_ASSERT_EQUAL(1u, parser.fields()[0].value.length);
        CPPUNIT_ASSERT_EQUAL(0u, parser.fields()[1].value.length);
    }

    void testRefusals() {
        const std::string get = "GET / HTTP/1.1\r\n";
        const std::string host = "Host: h\r\n";
        const std::string post = "POST / HTTP/1.1\r\nHost: h\r\n";
        const std::string bareLf = "a line ends in a bare LF; HTTP/1.1 lines end in CRLF";
        const std::string badMethod = "malformed request line: expected a method token and one space";
        const std::string badTarget =
            "malformed request line: the target must be visible ASCII followed by one space";
        const std::string badVersion = "malformed request line: the version must look like HTTP/1.1";
        const std::string badName = "invalid character in a header name";
        const std::string noName = "a header line without a name";
        const std::string fold = "folded header lines (obs-fold) are not accepted";
        const std::string clDigits = "Content-Length must be digits only";
        const std::string clLength = "Content-Length must be 1 to 19 digits";
        std::vector<Refusal> table = {
            // Bare LF anywhere in the head, and CR without LF.
            {"bare LF after the request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400, bareLf},
            {"bare LF after a field", get + "Host: h\n\r\n", 400, bareLf},
            {"bare LF as the empty line", get + host + "\n", 400, bareLf},
            {"bare LF as the first byte", "\nGET / HTTP/1.1\r\n" + host + "\r\n", 400, bareLf},
            {"bare LF inside a value", get + "Host: h\r\nX: a\nb\r\n\r\n", 400, bareLf},
            {"CR without LF in a value", get + host + "X: a\rb\r\n\r\n", 400,
             "control character in the value of header X"},
            {"CR without LF ending a value", get + host + "X: a\r\r\n\r\n", 400,
             "control character in the value of header X"},
            {"CR without LF in the target", "GET /a\rb HTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"CR without LF after the version", "GET / HTTP/1.1\r\r\n" + host + "\r\n", 400, badVersion},
            {"CR alone as a field line", get + host + "\r\r\n\r\n", 400, noName},
            // The request line.
            {"leading space", " GET / HTTP/1.1\r\n" + host + "\r\n", 400, badMethod},
            {"no method", "/ HTTP/1.1\r\n" + host + "\r\n", 400, badMethod},
            {"tab after the method", "GET\t/ HTTP/1.1\r\n" + host + "\r\n", 400, badMethod},
            {"non-token in the method", "G(T / HTTP/1.1\r\n" + host + "\r\n", 400, badMethod},
            {"obs-text in the method", "G\xc9T / HTTP/1.1\r\n" + host + "\r\n", 400, badMethod},
            {"method only", "GET\r\n" + host + "\r\n", 400, badMethod},
            {"two spaces before the target", "GET  / HTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"two spaces after the target", "GET /  HTTP/1.1\r\n" + host + "\r\n", 400, badVersion},
            {"tab after the target", "GET /\tHTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"HTTP/0.9 request line (no version)", "GET /\r\n\r\n", 400, badTarget},
            {"no version after the space", "GET / \r\n" + host + "\r\n", 400, badVersion},
            {"byte 0x80 in the target", "GET /caf\x80 HTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"UTF-8 in the target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"byte 0xff in the target", "GET /\xff HTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"NUL in the target", std::string("GET /a\0b HTTP/1.1\r\n", 19) + host + "\r\n", 400, badTarget},
            {"DEL in the target", "GET /a\x7f HTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"control byte in the target", "GET /a\x01 HTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"ESC in the target", "GET /a\x1b HTTP/1.1\r\n" + host + "\r\n", 400, badTarget},
            {"space at the end", "GET / HTTP/1.1 \r\n" + host + "\r\n", 400, badVersion},
            {"lower-case http", "GET / http/1.1\r\n" + host + "\r\n", 400, badVersion},
            {"HTTP/1", "GET / HTTP/1\r\n" + host + "\r\n", 400, badVersion},
            {"HTTP/1.10", "GET / HTTP/1.10\r\n" + host + "\r\n", 400, badVersion},
            {"HTTP/11.1", "GET / HTTP/11.1\r\n" + host + "\r\n", 400, badVersion},
            {"HTTP/1.x", "GET / HTTP/1.x\r\n" + host + "\r\n", 400, badVersion},
            {"HTTP/x.1", "GET / HTTP/x.1\r\n" + host + "\r\n", 400, badVersion},
            {"HTTP/1,1", "GET / HTTP/1,1\r\n" + host + "\r\n", 400, badVersion},
            {"HTTPS/1.1", "GET / HTTPS/1.1\r\n" + host + "\r\n", 400, badVersion},
            {"garbage line", "hello\r\n\r\n", 400, badMethod},
            {"TLS ClientHello bytes", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15),
             400, badMethod},
            // Versions with another major are refused as such (RFC 9110 15.6.6), HTTP/0.9 included.
            {"HTTP/2.0", "GET / HTTP/2.0\r\n" + host + "\r\n", 505, "HTTP/2.0 is not served; use HTTP/1.1"},
            {"HTTP/3.0", "GET / HTTP/3.0\r\n" + host + "\r\n", 505, "HTTP/3.0 is not served; use HTTP/1.1"},
            {"HTTP/0.9 as a version", "GET / HTTP/0.9\r\n" + host + "\r\n", 505,
             "HTTP/0.9 is not served; use HTTP/1.1"},
            {"HTTP/9.9", "GET / HTTP/9.9\r\n\r\n", 505, "HTTP/9.9 is not served; use HTTP/1.1"},
            {"h2c preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP/2.0 is not served; use HTTP/1.1"},
            // Field lines.
            {"space before the colon", get + "Host : h\r\n\r\n", 400,
             "whitespace between a header name and its colon"},
            {"tab before the colon", get + "Host\t: h\r\n\r\n", 400,
             "whitespace between a header name and its colon"},
            // A space after a name token reads as whitespace before the colon, wherever the colon is.
            {"space inside a name", get + host + "X Y: z\r\n\r\n", 400,
             "whitespace between a header name and its colon"},
            {"obs-fold", get + host + "X: a\r\n b\r\n\r\n", 400, fold},
            {"obs-fold with a tab", get + host + "X: a\r\n\tb\r\n\r\n", 400, fold},
            {"whitespace before the first field", get + " Host: h\r\n\r\n", 400, fold},
            {"empty name", get + host + ": v\r\n\r\n", 400, noName},
            {"no colon", get + host + "NoColon\r\n\r\n", 400, badName},
            {"non-token in a name", get + host + "X(y): z\r\n\r\n", 400, badName},
            {"obs-text in a name", get + host + "X\xe9: z\r\n\r\n", 400, badName},
            {"NUL in a name", get + host + std::string("X\0: z\r\n\r\n", 9), 400, badName},
            {"NUL in a value", get + host + std::string("X: a\0b\r\n\r\n", 10), 400,
             "control character in the value of header X"},
            {"DEL in a value", get + host + "X: a\x7f\r\n\r\n", 400,
             "control character in the value of header X"},
            {"0x01 in a value", get + host + "X: \x01\r\n\r\n", 400,
             "control character in the value of header X"},
            {"0x1f in a value", get + host + "X: a\x1f\r\n\r\n", 400,
             "control character in the value of header X"},
            {"vertical tab in a value", get + host + "X: a\vb\r\n\r\n", 400,
             "control character in the value of header X"},
            {"form feed in Host", get + "Host: a\f\r\n\r\n", 400,
             "control character in the value of header Host"},
            // Host.
            {"HTTP/1.1 without Host", get + "X: y\r\n\r\n", 400, "HTTP/1.1 requires a Host header"},
            {"HTTP/1.1 with no field at all", get + "\r\n", 400, "HTTP/1.1 requires a Host header"},
            {"two Host fields", get + "Host: a\r\nHost: a\r\n\r\n", 400, "more than one Host header"},
            {"two Host fields, other case", get + "Host: a\r\nHOST: b\r\n\r\n", 400,
             "more than one Host header"},
            {"two Host fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400,
             "more than one Host header"},
            // Content-Length (RFC 9112 6.3: an invalid one is unrecoverable).
            {"Content-Length empty", post + "Content-Length:\r\n\r\n", 400, clLength},
            {"Content-Length blank", post + "Content-Length:   \r\n\r\n", 400, clLength},
            {"Content-Length +5", post + "Content-Length: +5\r\n\r\n", 400, clDigits},
            {"Content-Length -1", post + "Content-Length: -1\r\n\r\n", 400, clDigits},
            {"Content-Length 0x10", post + "Content-Length: 0x10\r\n\r\n", 400, clDigits},
            {"Content-Length 1e3", post + "Content-Length: 1e3\r\n\r\n", 400, clDigits},
            {"Content-Length 1.0", post + "Content-Length: 1.0\r\n\r\n", 400, clDigits},
            {"Content-Length list", post + "Content-Length: 5, 5\r\n\r\n", 400, clDigits},
            {"Content-Length 5 5", post + "Content-Length: 5 5\r\n\r\n", 400, clDigits},
            {"Content-Length with obs-text", post + "Content-Length: 5\xb2\r\n\r\n", 400, clDigits},
            {"Content-Length 20 digits", post + "Content-Length: 10000000000000000000\r\n\r\n", 400,
             clLength},
            {"Content-Length 20 digits, leading zeros", post + "Content-Length: 00000000000000000001\r\n\r\n",
             400, clLength},
            {"Content-Length twice, equal", post + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400,
             "more than one Content-Length"},
            {"Content-Length twice, different", post + "Content-Length: 1\r\ncontent-length: 2\r\n\r\nxx",
             400, "more than one Content-Length"},
            {"Content-Length over the limit", post + "Content-Length: 1025\r\n\r\n", 413,
             "the body exceeds the limit of 1024 bytes", limitsOf(16384, 64, 1024)},
            {"Content-Length of 19 nines", post + "Content-Length: 9999999999999999999\r\n\r\n", 413,
             "the body exceeds the limit of 1048576 bytes"},
            {"Content-Length 1 with a zero limit", post + "Content-Length: 1\r\n\r\nx", 413,
             "the body exceeds the limit of 0 bytes", limitsOf(16384, 64, 0)},
            // Transfer-Encoding (RFC 9112 6.1, 6.3).
            {"Transfer-Encoding: gzip", post + "Transfer-Encoding: gzip\r\n\r\n", 400,
             "Transfer-Encoding 'gzip' does not end in chunked"},
            {"Transfer-Encoding: identity", post + "Transfer-Encoding: identity\r\n\r\n", 400,
             "Transfer-Encoding 'identity' does not end in chunked"},
            {"Transfer-Encoding: empty", post + "Transfer-Encoding: \r\n\r\n", 400,
             "Transfer-Encoding '' does not end in chunked"},
            {"Transfer-Encoding: chunked, gzip", post + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400,
             "Transfer-Encoding 'chunked, gzip' does not end in chunked"},
            {"Transfer-Encoding: chunked,", post + "Transfer-Encoding: chunked,\r\n\r\n", 400,
             "Transfer-Encoding 'chunked,' does not end in chunked"},
            {"Transfer-Encoding: xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n", 400,
             "Transfer-Encoding 'xchunked' does not end in chunked"},
            {"Transfer-Encoding: gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501,
             "Transfer-Encoding 'gzip, chunked' is not supported; only chunked"},
            {"Transfer-Encoding: chunked, chunked", post + "Transfer-Encoding: chunked, chunked\r\n\r\n", 501,
             "Transfer-Encoding 'chunked, chunked' is not supported; only chunked"},
            {"Transfer-Encoding twice",
             post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
             "more than one Transfer-Encoding field"},
            {"Transfer-Encoding with Content-Length",
             post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400,
             "Content-Length together with Transfer-Encoding (refused: request smuggling)"},
            {"Content-Length with Transfer-Encoding",
             post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400,
             "Content-Length together with Transfer-Encoding (refused: request smuggling)"},
            {"Content-Length 0 with Transfer-Encoding",
             post + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
             "Content-Length together with Transfer-Encoding (refused: request smuggling)"},
            {"Transfer-Encoding in HTTP/1.0",
             "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400,
             "Transfer-Encoding is not allowed in HTTP/1.0"},
            // Expect.
            {"Expect: something else", post + "Expect: 200-ok\r\nContent-Length: 0\r\n\r\n", 417,
             "only Expect: 100-continue is understood"},
            {"Expect: empty", post + "Expect:\r\n\r\n", 417, "only Expect: 100-continue is understood"},
            {"Expect: 100-continue, x", post + "Expect: 100-continue, x\r\n\r\n", 417,
             "only Expect: 100-continue is understood"},
            // Limits: request line, number of fields, bytes of fields (name + value + 4 each).
            {"request line one byte over", requestLineOf(65) + "\r\nHost: h\r\n\r\n", 414,
             "the request line exceeds 64 bytes", limitsOf(64, 64, 1024)},
            {"request line far over", "GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414,
             "the request line exceeds 1024 bytes", limitsOf(1024, 64, 1024)},
            {"one field more than maxHeaderCount", get + host + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431,
             "more than 3 header fields", limitsOf(16384, 3, 1024)},
            {"field bytes one over", get + host + "X-Fill: " + std::string(46, 'x') + "\r\n\r\n", 431,
             "header fields exceed 64 bytes", limitsOf(64, 64, 1024)},
            {"field bytes over by two fields",
             get + "Host: " + std::string(30, 'h') + "\r\nX: " + std::string(30, 'x') + "\r\n\r\n", 431,
             "header fields exceed 64 bytes", limitsOf(64, 64, 1024)},
            // Refused in the body, after HeadersDone.
            {"chunked body over the limit",
             kChunkedHead + "401\r\n" + std::string(0x401, 'b') + "\r\n0\r\n\r\n", 413,
             "the body exceeds the limit of 1024 bytes", limitsOf(16384, 64, 1024), true},
        };
        for (const Refusal& row : table) checkRefusal(row);
    }

    void testRefusalIsFinal() {
        const std::string bytes = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
        RequestParser parser(kDefaults);
        CPPUNIT_ASSERT(parser.parse(bytes.data(), bytes.size()) == Status::Error);
        CPPUNIT_ASSERT_EQUAL(400, parser.errorStatus());
        const std::string more = bytes + "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        CPPUNIT_ASSERT(parser.parse(more.data(), more.size()) == Status::Error);
        CPPUNIT_ASSERT_EQUAL(400, parser.errorStatus());
        CPPUNIT_ASSERT_EQUAL(std::string("more than one Host header"), parser.errorDetail());
        // The fields parsed before the refusal stay readable, for the request id and the CORS
        // headers of the answer (Connection::failAndClose).
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), parser.fields().size());
    }

    void testLeadingEmptyLine() {
        // Connection::process skips CRLFs before a request; the parser refuses them.
        checkRefusal({"leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400,
                      "the request starts with an empty line"});
        checkRefusal({"two leading CRLFs", "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400,
                      "the request starts with an empty line"});
    }

    void testNeedMoreUntilTheHeadEnds() {
        const std::string bytes = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
        RequestParser parser(kDefaults);
        for (std::size_t size = 0; size < bytes.size(); ++size) {
            std::string prefix = bytes.substr(0, size);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(printable(prefix), std::string("NeedMore"),
                                         std::string(statusName(parser.parse(prefix.data(), prefix.size()))));
        }
        CPPUNIT_ASSERT(parser.parse(bytes.data(), bytes.size()) == Status::Complete);
        CPPUNIT_ASSERT_EQUAL(bytes.size(), parser.consumed());
        // Complete stays Complete, whatever follows.
        const std::string more = bytes + "GET /next";
        CPPUNIT_ASSERT(parser.parse(more.data(), more.size()) == Status::Complete);
        CPPUNIT_ASSERT_EQUAL(bytes.size(), parser.consumed());
    }

    void testLimitsExactlyAtTheLimitAccepted() {
        const std::string get = "GET / HTTP/1.1\r\nHost: h\r\n";  // Host: h counts 4 + 1 + 4 = 9
        struct Row {
            std::string name;
            std::string bytes;
            ParserLimits limits;
        };
        const std::vector<Row> table = {
            {"maxHeaderCount fields", get + "A: 1\r\nB: 2\r\n\r\n", limitsOf(16384, 3, 0)},
            {"maxHeaderBytes of fields", get + "X-Fill: " + std::string(45, 'x') + "\r\n\r\n",
             limitsOf(64, 64, 0)},
            {"maxHeaderBytes, OWS not counted", get + "X-Fill:  \t " + std::string(45, 'x') + " \t \r\n\r\n",
             limitsOf(64, 64, 0)},
            {"maxHeaderBytes, no OWS still counts 4", get + "X-Fill:" + std::string(45, 'x') + "\r\n\r\n",
             limitsOf(64, 64, 0)},
            {"Content-Length at maxBodyBytes",
             "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'b'),
             limitsOf(16384, 64, 1024)},
            {"chunked at maxBodyBytes", kChunkedHead + "400\r\n" + std::string(1024, 'b') + "\r\n0\r\n\r\n",
             limitsOf(16384, 64, 1024)},
        };
        for (const Row& row : table) {
            Outcome got = parseEveryWay(row.name, row.bytes, row.limits);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name + ": " + got.describe(), std::string("Complete"),
                                         std::string(statusName(got.status)));
        }
        // A request line of exactly maxHeaderBytes, in one piece (split: see
        // testRequestLineAtTheLimitAcceptedWhateverTheSplit).
        Outcome line = parseWhole(requestLineOf(64) + "\r\nHost: h\r\n\r\n", limitsOf(64, 64, 0));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(line.describe(), std::string("Complete"),
                                     std::string(statusName(line.status)));
        // One byte more than each is refused.
        checkRefusal({"maxHeaderBytes + 1, OWS not counted",
                      get + "X-Fill:  \t " + std::string(46, 'x') + " \t \r\n\r\n", 431,
                      "header fields exceed 64 bytes", limitsOf(64, 64, 0)});
        checkRefusal({"Content-Length at maxBodyBytes + 1",
                      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n", 413,
                      "the body exceeds the limit of 1024 bytes", limitsOf(16384, 64, 1024)});
    }

    void testContentLengthBody() {
        const std::string head = "POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
        const std::string bytes = head + "hello world" + "GET / HTTP/1.1\r\n";  // a pipelined start after it
        Outcome got = parseEveryWay("Content-Length body", bytes, kDefaults);
        CPPUNIT_ASSERT_EQUAL(std::string("Complete"), std::string(statusName(got.status)));
        CPPUNIT_ASSERT_EQUAL(std::string("hello world"), got.body);
        CPPUNIT_ASSERT_EQUAL(head.size() + 11, got.consumed);
        // The body is a span of the buffer, not a copy.
        RequestParser parser(kDefaults);
        CPPUNIT_ASSERT(parser.parse(bytes.data(), bytes.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(parser.parse(bytes.data(), bytes.size()) == Status::Complete);
        CPPUNIT_ASSERT(parser.body(bytes.data()).data() == bytes.data() + head.size());
        // Content-Length: 0 has no body and no HeadersDone.
        Outcome zero = parseEveryWay("Content-Length: 0",
                                     "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\nXYZ", kDefaults);
        CPPUNIT_ASSERT_EQUAL(std::string("Complete"), std::string(statusName(zero.status)));
        CPPUNIT_ASSERT_EQUAL(0, zero.headersDone);
        CPPUNIT_ASSERT(!zero.expectsBody);
        CPPUNIT_ASSERT_EQUAL(std::string(""), zero.body);
        CPPUNIT_ASSERT_EQUAL(std::string("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").size(),
                             zero.consumed);
    }

    void testHeadersDoneOnceThenNeedMoreThenComplete() {
        const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n";
        const std::string bytes = head + "0123456789";
        RequestParser parser(kDefaults);
        CPPUNIT_ASSERT(parser.parse(bytes.data(), head.size() - 1) == Status::NeedMore);
        CPPUNIT_ASSERT(parser.parse(bytes.data(), head.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(parser.expectsBody());
        CPPUNIT_ASSERT(parser.parse(bytes.data(), head.size()) == Status::NeedMore);
        for (std::size_t size = head.size() + 1; size < bytes.size(); ++size)
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(size), std::string("NeedMore"),
                                         std::string(statusName(parser.parse(bytes.data(), size))));
        CPPUNIT_ASSERT(parser.parse(bytes.data(), bytes.size()) == Status::Complete);
        CPPUNIT_ASSERT_EQUAL(std::string("0123456789"), std::string(parser.body(bytes.data())));

        // The same for a chunked body.
        const std::string chunked = kChunkedHead + "5\r\nhello\r\n0\r\n\r\n";
        RequestParser chunkedParser(kDefaults);
        CPPUNIT_ASSERT(chunkedParser.parse(chunked.data(), kChunkedHead.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(chunkedParser.parse(chunked.data(), kChunkedHead.size()) == Status::NeedMore);
        for (std::size_t size = kChunkedHead.size() + 1; size < chunked.size(); ++size)
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(size), std::string("NeedMore"),
                                         std::string(statusName(chunkedParser.parse(chunked.data(), size))));
        CPPUNIT_ASSERT(chunkedParser.parse(chunked.data(), chunked.size()) == Status::Complete);
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), std::string(chunkedParser.body(chunked.data())));

        // All of it at once: HeadersDone first all the same (the connection may answer 100 Continue).
        RequestParser whole(kDefaults);
        CPPUNIT_ASSERT(whole.parse(chunked.data(), chunked.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(whole.parse(chunked.data(), chunked.size()) == Status::Complete);
    }

    void testExpectContinueSeenBeforeTheBody() {
        const std::string head =
            "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
        RequestParser parser(kDefaults);
        CPPUNIT_ASSERT(parser.parse(head.data(), head.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(parser.expectsContinue());
        CPPUNIT_ASSERT(parser.expectsBody());
        // HTTP/1.0 may say it too; the connection sends 100 Continue to HTTP/1.1 clients only.
        const std::string old = "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
        RequestParser oldParser(kDefaults);
        CPPUNIT_ASSERT(oldParser.parse(old.data(), old.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(oldParser.expectsContinue());
        CPPUNIT_ASSERT_EQUAL(0, oldParser.minorVersion());
        // Without Expect, no continue.
        const std::string plain = "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n";
        RequestParser plainParser(kDefaults);
        CPPUNIT_ASSERT(plainParser.parse(plain.data(), plain.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(!plainParser.expectsContinue());
    }

    void testChunkedBodies() {
        struct Row {
            std::string name;
            std::string chunks;
            std::string body;
        };
        const std::vector<Row> table = {
            {"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"},
            {"no chunk at all", "0\r\n\r\n", ""},
            {"several chunks", "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", "hello world"},
            {"lower-case hex", "a\r\n0123456789\r\nf\r\nabcdefghijklmno\r\n0\r\n\r\n",
             "0123456789abcdefghijklmno"},
            {"upper-case hex", "A\r\n0123456789\r\nF\r\nabcdefghijklmno\r\n0\r\n\r\n",
             "0123456789abcdefghijklmno"},
            {"mixed-case hex", "aB\r\n" + std::string(0xab, 'q') + "\r\n0\r\n\r\n", std::string(0xab, 'q')},
            {"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"},
            {"15 hex digits", "000000000000005\r\nhello\r\n0\r\n\r\n", "hello"},
            {"extensions", "5;name=value\r\nhello\r\n3;a;b=\"q;uo\\\"ted\"\r\nabc\r\n0;last=1\r\n\r\n",
             "helloabc"},
            {"whitespace before an extension", "5 ;x=1\r\nhello\r\n5\t;y\r\nworld\r\n0 \r\n\r\n",
             "helloworld"},
            {"trailing whitespace after the size", "5 \t\r\nhello\r\n0\r\n\r\n", "hello"},
            {"obs-text in an extension", "5;x=\xe9\r\nhello\r\n0\r\n\r\n", "hello"},
            {"trailer fields", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:  2 \r\n\r\n", "hello"},
            {"trailer with an empty value", "5\r\nhello\r\n0\r\nX-Empty:\r\n\r\n", "hello"},
            {"data with CRLF and NUL inside", std::string("6\r\n\r\n\0\n\r\xff\r\n0\r\n\r\n", 16),
             std::string("\r\n\0\n\r\xff", 6)},
            {"chunk data that looks like a chunk", "8\r\n0\r\n\r\nGET\r\n0\r\n\r\n", "0\r\n\r\nGET"},
        };
        for (const Row& row : table) {
            const std::string bytes = kChunkedHead + row.chunks;
            Outcome got = parseEveryWay("chunked: " + row.name, bytes, kDefaults);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name + ": " + got.describe(), std::string("Complete"),
                                         std::string(statusName(got.status)));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name, printable(row.body), printable(got.body));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name, bytes.size(), got.consumed);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name, 1, got.headersDone);
            // Trailer fields are checked, then dropped: the fields are the head's.
            CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name, std::size_t(2), got.fields.size());
        }
        // What follows the last CRLF is the next message's.
        const std::string body = kChunkedHead + "3\r\nabc\r\n0\r\n\r\n";
        Outcome got = parseEveryWay("chunked then more", body + "GET / HTTP/1.1\r\n", kDefaults);
        CPPUNIT_ASSERT_EQUAL(body.size(), got.consumed);
    }

    void testChunkedRefusals() {
        const std::string ext = "control character in a chunk extension";
        const std::vector<Refusal> table = {
            {"no CRLF after the data", kChunkedHead + "5\r\nhelloX\r\n0\r\n\r\n", 400,
             "chunk data must be followed by CRLF"},
            {"LF only after the data", kChunkedHead + "5\r\nhello\n0\r\n\r\n", 400,
             "chunk data must be followed by CRLF"},
            {"data longer than its size", kChunkedHead + "3\r\nhello\r\n0\r\n\r\n", 400,
             "chunk data must be followed by CRLF"},
            {"bare LF after the size", kChunkedHead + "5\nhello\r\n0\r\n\r\n", 400,
             "a chunk size line must end in CRLF"},
            {"bare LF as the size line", kChunkedHead + "\n", 400, "a chunk size line must end in CRLF"},
            {"bare LF after the last chunk", kChunkedHead + "0\n\r\n", 400,
             "a chunk size line must end in CRLF"},
            {"empty size", kChunkedHead + "\r\nhello\r\n0\r\n\r\n", 400, "malformed chunk size"},
            {"size not hex", kChunkedHead + "g\r\n", 400, "malformed chunk size"},
            {"size then junk", kChunkedHead + "5x\r\nhello\r\n0\r\n\r\n", 400, "malformed chunk size"},
            {"size 0x5", kChunkedHead + "0x5\r\nhello\r\n0\r\n\r\n", 400, "malformed chunk size"},
            {"size -1", kChunkedHead + "-1\r\n", 400, "malformed chunk size"},
            {"size +5", kChunkedHead + "+5\r\nhello\r\n0\r\n\r\n", 400, "malformed chunk size"},
            {"whitespace before the size", kChunkedHead + " 5\r\nhello\r\n0\r\n\r\n", 400,
             "malformed chunk size"},
            {"two sizes", kChunkedHead + "5 5\r\nhello\r\n0\r\n\r\n", 400, "malformed chunk size"},
            {"16 hex digits", kChunkedHead + "0000000000000005\r\nhello\r\n0\r\n\r\n", 400,
             "chunk size too large"},
            {"16 hex digits, huge", kChunkedHead + "ffffffffffffffff\r\n", 400, "chunk size too large"},
            {"17 hex digits", kChunkedHead + "10000000000000000\r\n", 400, "chunk size too large"},
            {"15 hex digits over the limit", kChunkedHead + "fffffffffffffff\r\n", 413,
             "the body exceeds the limit of 1048576 bytes"},
            {"NUL in an extension", kChunkedHead + std::string("5;a\0\r\nhello\r\n0\r\n\r\n", 18), 400, ext},
            {"CR in an extension", kChunkedHead + "5;a\rb\r\nhello\r\n0\r\n\r\n", 400, ext},
            {"DEL in an extension", kChunkedHead + "5;a=\x7f\r\nhello\r\n0\r\n\r\n", 400, ext},
            {"over-long size line, no LF yet", kChunkedHead + "5;" + std::string(1100, 'x'), 400,
             "a chunk size line longer than 1024 bytes"},
            {"trailer ending in a bare LF", kChunkedHead + "0\r\nX: y\n\r\n", 400,
             "a trailer line must end in CRLF"},
            {"bare LF ending the trailer section", kChunkedHead + "0\r\nX: y\r\n\n", 400,
             "a trailer line must end in CRLF"},
            {"bare LF as the trailer section", kChunkedHead + "0\r\n\n", 400,
             "a trailer line must end in CRLF"},
            {"obs-fold in the trailer", kChunkedHead + "0\r\nX: y\r\n z\r\n\r\n", 400,
             "folded header lines (obs-fold) are not accepted"},
            {"trailer line without a colon", kChunkedHead + "0\r\nnope\r\n\r\n", 400,
             "invalid character in a header name"},
            {"space before a trailer colon", kChunkedHead + "0\r\nX : y\r\n\r\n", 400,
             "whitespace between a header name and its colon"},
            {"control byte in a trailer value", kChunkedHead + "0\r\nX: \x01\r\n\r\n", 400,
             "control character in the value of header X"},
            {"trailer too large", kChunkedHead + "0\r\nX: " + std::string(80, 't') + "\r\n\r\n", 431,
             "the trailer section is too large", limitsOf(64, 64, 1024)},
            {"trailer too large over several lines",
             kChunkedHead + "0\r\nA: " + std::string(20, 'a') + "\r\nB: " + std::string(20, 'b') +
                 "\r\nC: " + std::string(20, 'c') + "\r\n\r\n",
             431, "the trailer section is too large", limitsOf(64, 64, 1024)},
            {"trailer too large, no LF yet", kChunkedHead + "0\r\nX: " + std::string(80, 't'), 431,
             "the trailer section is too large", limitsOf(64, 64, 1024)},
            {"chunks adding up over the limit",
             kChunkedHead + "200\r\n" + std::string(512, 'a') + "\r\n201\r\n" + std::string(513, 'b') +
                 "\r\n0\r\n\r\n",
             413, "the body exceeds the limit of 1024 bytes", limitsOf(16384, 64, 1024)},
        };
        for (Refusal row : table) {
            row.afterHead = true;
            checkRefusal(row);
        }
    }

    void testChunkedBodyAtTheLimit() {
        // Many small chunks adding up to exactly maxBodyBytes.
        std::string chunks;
        for (int i = 0; i < 64; ++i)
            chunks += "10\r\n" + std::string(16, static_cast<char>('a' + i % 26)) + "\r\n";
        Outcome got =
            parseEveryWay("64 chunks of 16", kChunkedHead + chunks + "0\r\n\r\n", limitsOf(16384, 64, 1024));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(got.describe(), std::string("Complete"),
                                     std::string(statusName(got.status)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1024), got.body.size());
    }

    void testPipelinedMessagesBackToBack() {
        const std::vector<std::string> messages = {
            "GET /one HTTP/1.1\r\nHost: h\r\n\r\n",
            "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
            kChunkedHead + "4;x\r\nwxyz\r\n0\r\nT: t\r\n\r\n",
            "HEAD /four HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET /five HTTP/1.0\r\n\r\n",
        };
        std::string all;
        for (const std::string& m : messages) all += m;
        // As the connection does: parse from the start of what is left, consume, reset.
        RequestParser parser(kDefaults);
        std::string rest = all;
        for (const std::string& m : messages) {
            Status status = parser.parse(rest.data(), rest.size());
            if (status == Status::HeadersDone) status = parser.parse(rest.data(), rest.size());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(printable(m), std::string("Complete"),
                                         std::string(statusName(status)));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(printable(m), m.size(), parser.consumed());
            rest.erase(0, parser.consumed());
            parser.reset();
        }
        CPPUNIT_ASSERT(rest.empty());
        // The same, checking what each one is, and each whatever the split.
        std::size_t offset = 0;
        const std::vector<std::string> targets = {"/one", "/two", "/up", "/four", "/five"};
        const std::vector<std::string> bodies = {"", "abc", "wxyz", "", ""};
        for (std::size_t i = 0; i < messages.size(); ++i) {
            Outcome got = parseEveryWay("pipelined #" + std::to_string(i),
                                        std::string_view(all).substr(offset), kDefaults);
            CPPUNIT_ASSERT_EQUAL(std::string("Complete"), std::string(statusName(got.status)));
            CPPUNIT_ASSERT_EQUAL(targets[i], got.target);
            CPPUNIT_ASSERT_EQUAL(bodies[i], got.body);
            CPPUNIT_ASSERT_EQUAL(messages[i].size(), got.consumed);
            offset += got.consumed;
        }
    }

    void testPipelinedMessagesByteByByte() {
        // Bytes arrive one at a time; after each Complete the connection drops consumed() bytes,
        // resets, and goes on parsing what is left (which may already hold the next message's start).
        const std::string all = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi" + kChunkedHead +
                                "2\r\nyo\r\n0\r\n\r\n" +
                                "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
        RequestParser parser(kDefaults);
        std::string buffer;
        std::vector<std::string> seen;
        int headersDone = 0;
        for (char c : all) {
            buffer.push_back(c);
            Status status = parser.parse(buffer.data(), buffer.size());
            if (status == Status::HeadersDone) {
                ++headersDone;
                status = parser.parse(buffer.data(), buffer.size());
            }
            CPPUNIT_ASSERT(status != Status::Error);
            if (status == Status::Complete) {
                seen.push_back(std::string(buffer.data() + parser.target().offset, parser.target().length) +
                               "=" + std::string(parser.body(buffer.data())) +
                               (parser.keepAlive() ? "" : " close"));
                buffer.erase(0, parser.consumed());
                parser.reset();
            }
        }
        CPPUNIT_ASSERT(buffer.empty());
        CPPUNIT_ASSERT_EQUAL(2, headersDone);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), seen.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/a=hi"), seen[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("/up=yo"), seen[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("/c= close"), seen[2]);
    }

    void testResetForgetsTheMessage() {
        RequestParser parser(kDefaults);
        // A chunked HTTP/1.0-keep-alive-less message with Expect, then a plain one: nothing carries over.
        const std::string first =
            "POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nConnection: close\r\nTransfer-Encoding: "
            "chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n";
        CPPUNIT_ASSERT(parser.parse(first.data(), first.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(parser.parse(first.data(), first.size()) == Status::Complete);
        CPPUNIT_ASSERT(!parser.keepAlive());
        parser.reset();
        const std::string second = "POST /y HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok";
        CPPUNIT_ASSERT(parser.parse(second.data(), second.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(parser.parse(second.data(), second.size()) == Status::Complete);
        CPPUNIT_ASSERT(parser.keepAlive());
        CPPUNIT_ASSERT(!parser.expectsContinue());
        CPPUNIT_ASSERT_EQUAL(std::string("ok"), std::string(parser.body(second.data())));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), parser.fields().size());
        // After an error too: no duplicate Host or Content-Length is remembered, no error either.
        parser.reset();
        const std::string bad = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
        CPPUNIT_ASSERT(parser.parse(bad.data(), bad.size()) == Status::Error);
        parser.reset();
        CPPUNIT_ASSERT_EQUAL(0, parser.errorStatus());
        CPPUNIT_ASSERT(parser.errorDetail().empty());
        CPPUNIT_ASSERT(parser.parse(second.data(), second.size()) == Status::HeadersDone);
        CPPUNIT_ASSERT(parser.parse(second.data(), second.size()) == Status::Complete);
        CPPUNIT_ASSERT_EQUAL(std::string("/y"),
                             std::string(second.data() + parser.target().offset, parser.target().length));
    }

    // --- Answers that must not depend on how the bytes were cut ------------------------------

    // A request line of exactly maxHeaderBytes is accepted when it arrives in one piece, but
    // refused 414 when a read ends between its CR and LF: RequestParser::parse's early check
    // (no LF yet and size > maxHeaderBytes) counts the CR, parseHead's does not.
    void testRequestLineAtTheLimitAcceptedWhateverTheSplit() {
        const ParserLimits limits = limitsOf(64, 64, 0);
        const std::string line = requestLineOf(64);
        const std::string bytes = line + "\r\nHost: h\r\n\r\n";
        Outcome whole = parseWhole(bytes, limits);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(whole.describe(), std::string("Complete"),
                                     std::string(statusName(whole.status)));
        Outcome cutAfterCr = feed(bytes, {line.size() + 1, bytes.size()}, limits);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("a read ending right after the request line's CR", whole.describe(),
                                     cutAfterCr.describe());
        parseEveryWay("request line of exactly maxHeaderBytes", bytes, limits);
    }

    // A chunk size line over 1024 bytes is refused when the parser sees it before its LF, and
    // accepted when it arrives whole with its LF.
    void testOverlongChunkSizeLineRefusedWhateverTheSplit() {
        const std::string bytes = kChunkedHead + "5;" + std::string(1100, 'x') + "\r\nhello\r\n0\r\n\r\n";
        Outcome whole = parseWhole(bytes, kDefaults);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("an over-long chunk size line in one piece: " + whole.describe(), 400,
                                     whole.errorStatus);
        CPPUNIT_ASSERT_EQUAL(std::string("a chunk size line longer than 1024 bytes"), whole.errorDetail);
        parseEveryWay("over-long chunk size line", bytes, kDefaults);
    }

    // Optional whitespace is not counted in maxHeaderBytes, but an unfinished head is bounded by
    // its raw size (2 * maxHeaderBytes + 256): the same head is served when it arrives in one
    // read and refused 431 when it arrives in two.
    void testHeadWithMuchWhitespaceSameAnswerWhateverTheSplit() {
        const ParserLimits limits = limitsOf(256, 64, 0);  // raw bound 768
        const std::string bytes = "GET / HTTP/1.1\r\nHost: h\r\nX:" + std::string(800, ' ') + "v\r\n\r\n";
        Outcome whole = parseWhole(bytes, limits);
        Outcome twoReads = feed(bytes, {bytes.size() - 1, bytes.size()}, limits);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("the same head in one read, then in two (the last LF alone)",
                                     whole.describe(), twoReads.describe());
    }

    // A trailer section of exactly maxHeaderBytes (counted with its lines' CRLFs) is accepted when
    // its final empty line arrives whole, but refused 431 when a read ends between that line's CR
    // and LF: the check for an unfinished trailer line counts the CR of the empty line too.
    void testTrailerAtTheLimitAcceptedWhateverTheSplit() {
        const ParserLimits limits = limitsOf(64, 64, 1024);
        const std::string line = "X: " + std::string(59, 't') + "\r\n";  // 64 bytes
        const std::string bytes = kChunkedHead + "0\r\n" + line + "\r\n";
        Outcome whole = parseWhole(bytes, limits);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(whole.describe(), std::string("Complete"),
                                     std::string(statusName(whole.status)));
        Outcome cutAfterCr = feed(bytes, {bytes.size() - 1, bytes.size()}, limits);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("a read ending right after the last CR", whole.describe(),
                                     cutAfterCr.describe());
        parseEveryWay("trailer of exactly maxHeaderBytes", bytes, limits);
    }

    // --- What Connection relies on --------------------------------------------------------------
    // Connection::readSome stops reading once it holds maxHeaderBytes + maxBodyBytes + 16 KiB of a
    // message ("the parser refuses anything beyond"). If the parser still answers NeedMore there,
    // Connection::onReadable loops forever (readSome returns false at once, process() gets
    // NeedMore, nothing changes): the I/O thread spins at 100% and its other connections starve.

    // Chunked framing costs bytes the decoded body does not count ("1\r\nx\r\n" is 6 bytes for 1),
    // so a body well under maxBodyBytes can fill the connection's buffer. Default limits.
    void testChunkedOverheadBoundedForTheConnection() {
        const ParserLimits limits;  // 16 KiB of fields, 1 MiB of body
        RequestParser parser(limits);
        // The connection buffers up to maxMessageBytes() (plus a read) before it stops reading.
        const std::size_t cap = parser.maxMessageBytes();
        std::string bytes = kChunkedHead;
        while (bytes.size() <= cap + 4096) bytes += "1\r\nx\r\n";
        Status status = Status::NeedMore;
        std::size_t size = kChunkedHead.size();
        for (; size <= bytes.size(); size += 4096) {
            status = parser.parse(bytes.data(), std::min(size, bytes.size()));
            if (status == Status::HeadersDone)
                status = parser.parse(bytes.data(), std::min(size, bytes.size()));
            if (status != Status::NeedMore) break;
            if (size >= cap) break;
        }
        CPPUNIT_ASSERT_MESSAGE("still NeedMore with " + std::to_string(size) +
                                   " bytes buffered of 1-byte chunks (" +
                                   std::to_string((size - kChunkedHead.size()) / 6) +
                                   " body bytes); the connection stops reading at " + std::to_string(cap),
                               status == Status::Error);
    }

    // A head that never ends must be refused before the connection's cap, whatever the limits
    // (http.max_body_bytes may be 0).
    void testUnfinishedHeadBoundedForTheConnection() {
        const ParserLimits limits = limitsOf(16384, 64, 0);
        RequestParser parser(limits);
        const std::size_t cap = parser.maxMessageBytes();
        const std::string bytes = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: " + std::string(cap, 'a');
        Status status = parser.parse(bytes.data(), cap);
        CPPUNIT_ASSERT_MESSAGE(std::string("an unfinished head of ") + std::to_string(cap) +
                                   " bytes (the connection's cap) got " + statusName(status),
                               status == Status::Error);
    }

  private:
    void checkRefusal(const Refusal& row) {
        Outcome got = parseEveryWay(row.name, row.bytes, row.limits);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name + ": " + got.describe(), std::string("Error"),
                                     std::string(statusName(got.status)));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name, row.status, got.errorStatus);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name, row.detail, got.errorDetail);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(row.name + ": HeadersDone before the refusal", row.afterHead ? 1 : 0,
                                     got.headersDone);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestParserTest);
