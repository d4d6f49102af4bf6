// Spans to Zipkin v2 JSON: server spans from a route's text with the ids written over it (128- and
// 64-bit trace ids, with and without a parent), escaping of the client's path, the error tag of a
// 5xx, debug; generic spans (DB, client, local) with their tags; every line checked against the
// Zipkin v2 schema.
#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "http/route_table.h"
#include "trace/current_span.h"
#include "trace/span_queue.h"
#include "trace/span_scope.h"
#include "trace/trace_clock.h"
#include "trace/zipkin_encoder.h"
#include "trace_test_helpers.h"
#include "zipkin_schema.h"

using namespace berth::server;
using berth::test::describeProblems;
using berth::test::parseLines;
using Poco::JSON::Object;

namespace {

std::string text(const ByteBuffer& buffer) {
    return {buffer.data(), buffer.size()};
}

void setHex(char* out, std::uint64_t value) {
    writeHex(out, value);
}

}  // namespace

class ZipkinEncoderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ZipkinEncoderTest);
    CPPUNIT_TEST(testServerSpan);
    CPPUNIT_TEST(testServerSpanChildAnd64BitTrace);
    CPPUNIT_TEST(testServerSpanEscapesPathAndMarksErrors);
    CPPUNIT_TEST(testServerSpanFromQueue);
    CPPUNIT_TEST(testTimestampsAcrossSeconds);
    CPPUNIT_TEST(testGenericSpans);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        mount_.plugin = "hello";
        mount_.prefix = "/hello";
        route_.method = berth::Method::Get;
        route_.pattern = RoutePattern::compile("/greet/<name>");
        route_.mount = &mount_;
    }

    ServerSpan span(std::uint64_t parent = 0) {
        ServerSpan s;
        s.route = &route_;
        s.parentId = parent;
        s.startUs = steadyMicros();
        setHex(s.spanHex, 0xa2fb4a1d1a96d312ull);
        return s;
    }

    ServerSpanFields fields(const std::string& trace, int status = 200) {
        ServerSpanFields f;
        f.path = path_;
        f.traceId = trace;
        f.durationUs = 1234;
        f.status = static_cast<std::uint16_t>(status);
        f.method = static_cast<std::uint8_t>(berth::Method::Get);
        return f;
    }

    Object::Ptr only(const ByteBuffer& out) {
        std::vector<Object::Ptr> spans = parseLines(text(out));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(text(out), std::size_t(1), spans.size());
        CPPUNIT_ASSERT_MESSAGE("one line, ending in a newline", text(out).back() == '\n');
        CPPUNIT_ASSERT_EQUAL_MESSAGE(describeProblems(spans[0]), std::string(), describeProblems(spans[0]));
        return spans[0];
    }

    void testServerSpan() {
        ZipkinEncoder encoder("visits-host");
        encoder.setClockOffset(steadyToEpochOffsetUs());
        ByteBuffer out;
        path_ = "/hello/greet/world";
        encoder.encodeServer(span(), fields(kTrace), out);
        Object::Ptr s = only(out);
        CPPUNIT_ASSERT_EQUAL(kTrace, s->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(std::string("a2fb4a1d1a96d312"), s->getValue<std::string>("id"));
        CPPUNIT_ASSERT(!s->has("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("SERVER"), s->getValue<std::string>("kind"));
        CPPUNIT_ASSERT_EQUAL(std::string("GET /hello/greet/<name>"), s->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("visits-host"),
                             s->getObject("localEndpoint")->getValue<std::string>("serviceName"));
        CPPUNIT_ASSERT_EQUAL(1234, s->getValue<int>("duration"));
        Object::Ptr tags = s->getObject("tags");
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), tags->getValue<std::string>("http.method"));
        CPPUNIT_ASSERT_EQUAL(std::string("/hello/greet/world"), tags->getValue<std::string>("http.path"));
        CPPUNIT_ASSERT_EQUAL(std::string("200"), tags->getValue<std::string>("http.status_code"));
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), tags->getValue<std::string>("plugin"));
        CPPUNIT_ASSERT(!tags->has("error"));
        // The start, in epoch microseconds: now, within a second.
        long long epochNow = steadyMicros() + steadyToEpochOffsetUs();
        CPPUNIT_ASSERT(std::llabs(s->getValue<long long>("timestamp") - epochNow) < 1000000);

        // The route's text is reused: a second span of it is as right as the first.
        out.clear();
        encoder.encodeServer(span(), fields(kOther), out);
        CPPUNIT_ASSERT_EQUAL(kOther, only(out)->getValue<std::string>("traceId"));
    }

    void testServerSpanChildAnd64BitTrace() {
        ZipkinEncoder encoder("berthd");
        encoder.setClockOffset(steadyToEpochOffsetUs());
        ByteBuffer out;
        path_ = "/hello/greet/x";
        encoder.encodeServer(span(0x0020000000000001ull), fields(kTrace), out);
        Object::Ptr s = only(out);
        CPPUNIT_ASSERT_EQUAL(std::string("0020000000000001"), s->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(kTrace, s->getValue<std::string>("traceId"));
        out.clear();
        encoder.encodeServer(span(0x0020000000000001ull), fields("48485a3953bb6124"), out);
        s = only(out);
        CPPUNIT_ASSERT_EQUAL(std::string("48485a3953bb6124"), s->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(std::string("0020000000000001"), s->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("GET /hello/greet/<name>"), s->getValue<std::string>("name"));
    }

    void testServerSpanEscapesPathAndMarksErrors() {
        ZipkinEncoder encoder("berthd");
        encoder.setClockOffset(steadyToEpochOffsetUs());
        ByteBuffer out;
        path_ = std::string("/hello/greet/a\"b\\c\x01\xff");  // quote, backslash, control, not UTF-8
        ServerSpan s = span();
        s.flags = kSpanDebug;
        encoder.encodeServer(s, fields(kTrace, 503), out);
        Object::Ptr json = only(out);
        CPPUNIT_ASSERT_EQUAL(std::string("/hello/greet/a\"b\\c\x01\xef\xbf\xbd"),
                             json->getObject("tags")->getValue<std::string>("http.path"));
        CPPUNIT_ASSERT_EQUAL(std::string("503"), json->getObject("tags")->getValue<std::string>("error"));
        CPPUNIT_ASSERT(json->getValue<bool>("debug"));
        // A path quoted already (the access log line's) is copied as it is.
        out.clear();
        path_ = "/hello/greet/y";
        ServerSpanFields f = fields(kTrace);
        f.quotedPath = "\"/hello/greet/y\"";
        encoder.encodeServer(span(), f, out);
        CPPUNIT_ASSERT_EQUAL(std::string("/hello/greet/y"),
                             only(out)->getObject("tags")->getValue<std::string>("http.path"));
    }

    void testServerSpanFromQueue() {
        SpanQueue queue(10);
        path_ = "/hello/greet/queued";
        CPPUNIT_ASSERT(queue.pushServer(queue.sharedShard(), span(0x42), fields(kTrace, 404)));
        std::vector<ByteBuffer> taken;
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), queue.take(taken));
        ZipkinEncoder encoder("berthd");
        encoder.setClockOffset(steadyToEpochOffsetUs());
        ByteBuffer out;
        berth::test::encodeAll(encoder, taken, out);
        Object::Ptr s = only(out);
        CPPUNIT_ASSERT_EQUAL(std::string("/hello/greet/queued"),
                             s->getObject("tags")->getValue<std::string>("http.path"));
        CPPUNIT_ASSERT_EQUAL(std::string("404"),
                             s->getObject("tags")->getValue<std::string>("http.status_code"));
        CPPUNIT_ASSERT_EQUAL(std::string("0000000000000042"), s->getValue<std::string>("parentId"));
    }

    void testTimestampsAcrossSeconds() {
        ZipkinEncoder encoder("berthd");
        encoder.setClockOffset(0);
        path_ = "/x";
        for (std::int64_t at :
             {1795633090999999LL, 1795633091000000LL, 1795633091000001LL, 1795633090000123LL}) {
            ByteBuffer out;
            ServerSpan s = span();
            s.startUs = at;
            encoder.encodeServer(s, fields(kTrace), out);
            CPPUNIT_ASSERT_EQUAL(static_cast<long long>(at), only(out)->getValue<long long>("timestamp"));
        }
        for (std::uint32_t duration : {0u, 7u, 42u, 999u, 1000u, 123456u, 4000000u}) {
            ByteBuffer out;
            ServerSpanFields f = fields(kTrace);
            f.durationUs = duration;
            ServerSpan s = span();
            s.startUs = 1795633090000000LL;
            encoder.encodeServer(s, f, out);
            CPPUNIT_ASSERT_EQUAL(duration == 0 ? 1 : static_cast<int>(duration),
                                 only(out)->getValue<int>("duration"));
        }
    }

    void testGenericSpans() {
        SpanQueue queue(10);
        installSpanSink(&queue, Sampler::forRate(1.0));
        TraceContext request = berth::test::sampledRequest();
        {
            CurrentSpanScope current(&request);
            SpanScope db("SELECT", SpanKind::Client, "postgresql");
            CPPUNIT_ASSERT(db.recording());
            db.tag("db.statement", "SELECT \"a\" FROM t WHERE id = $1").tag("db.type", "postgresql");
            db.error("SQLSTATE 42P01: no such table");
            SpanScope local("render", SpanKind::Local);  // a local span: no kind
        }
        installSpanSink(nullptr, Sampler{});
        std::vector<ByteBuffer> taken;
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), queue.take(taken));
        ZipkinEncoder encoder("berthd");
        encoder.setClockOffset(steadyToEpochOffsetUs());
        ByteBuffer out;
        berth::test::encodeAll(encoder, taken, out);
        std::vector<Object::Ptr> spans = parseLines(text(out));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), spans.size());
        Object::Ptr local = spans[0], db = spans[1];  // the inner one finished first
        CPPUNIT_ASSERT_EQUAL(std::string(), describeProblems(local, false));
        CPPUNIT_ASSERT(!local->has("kind"));
        CPPUNIT_ASSERT_EQUAL(std::string("render"), local->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(db->getValue<std::string>("id"), local->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string(), describeProblems(db));
        CPPUNIT_ASSERT_EQUAL(std::string("CLIENT"), db->getValue<std::string>("kind"));
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT"), db->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("463ac35c9f6413ad48485a3953bb6124"),
                             db->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(std::string("1111111111111111"), db->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql"),
                             db->getObject("remoteEndpoint")->getValue<std::string>("serviceName"));
        Object::Ptr tags = db->getObject("tags");
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT \"a\" FROM t WHERE id = $1"),
                             tags->getValue<std::string>("db.statement"));
        CPPUNIT_ASSERT_EQUAL(std::string("SQLSTATE 42P01: no such table"),
                             tags->getValue<std::string>("error"));
    }

  private:
    const std::string kTrace = "463ac35c9f6413ad48485a3953bb6124";
    const std::string kOther = "0123456789abcdef0123456789abcdef";
    Mount mount_;
    Route route_;
    std::string path_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ZipkinEncoderTest);
