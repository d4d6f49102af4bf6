// The span reporter in-process, against a real HTTP collector on 127.0.0.1 (tests/support/
// loopback_server.h): JSON-lines file output, batches POSTed to the collector, a full queue that
// drops and counts without blocking, a collector that is down and then comes up (batches arrive
// after the backoff), a collector that answers errors, and the access log's hand-over.
#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "eventually.h"
#include "http/route_table.h"
#include "loopback_server.h"
#include "observe/access_log.h"
#include "test_helpers.h"
#include "trace/current_span.h"
#include "trace/span_reporter.h"
#include "trace/span_scope.h"
#include "trace/trace_clock.h"
#include "trace_test_helpers.h"
#include "zipkin_schema.h"

using namespace berth::server;
using berth::test::describeProblems;
using berth::test::LoopbackServer;
using berth::test::parseBatch;
using berth::test::parseLines;
using berth::test::TempDir;

namespace {

TraceSettings settingsFor(const std::string& file, const std::string& url) {
    TraceSettings t;
    t.enabled = true;
    t.file = file;
    if (!url.empty()) {
        t.zipkinUrl = url;
        t.zipkinHost = "127.0.0.1";
        t.zipkinPort = std::stoi(url.substr(url.rfind(':') + 1));
        t.zipkinPath = "/api/v2/spans";
    }
    t.flushIntervalMs = 20;
    t.backoffInitialMs = 50;
    t.backoffMaxMs = 200;
    t.zipkinTimeoutMs = 2000;
    t.shutdownTimeoutMs = 2000;
    return t;
}

// `count` finished local spans under a sampled request context, through the installed sink.
void makeSpans(SpanQueue& queue, int count) {
    installSpanSink(&queue, Sampler::forRate(1.0));
    TraceContext request = berth::test::sampledRequest();
    CurrentSpanScope current(&request);
    for (int i = 0; i < count; ++i)
        SpanScope span("work " + std::to_string(i), SpanKind::Client, "downstream");
    installSpanSink(nullptr, Sampler{});
}

std::size_t spansIn(const std::vector<LoopbackServer::Call>& calls) {
    std::size_t spans = 0;
    for (const auto& call : calls) spans += parseBatch(call.body).size();
    return spans;
}

}  // namespace

class SpanReporterTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SpanReporterTest);
    CPPUNIT_TEST(testFileOutput);
    CPPUNIT_TEST(testBatchesToCollector);
    CPPUNIT_TEST(testFullQueueDropsAndCounts);
    CPPUNIT_TEST(testCollectorDownThenUp);
    CPPUNIT_TEST(testCollectorErrorsAreRetriedThenGivenUp);
    CPPUNIT_TEST(testFileKeepsSpansWhileCollectorIsBehind);
    CPPUNIT_TEST(testUnwritableFileErrorIsRateLimited);
    CPPUNIT_TEST(testLongDurationSaturates);
    CPPUNIT_TEST(testSpansDroppedWithAccessRecordsAreCounted);
    CPPUNIT_TEST(testAccessLogHandover);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testFileOutput() {
        TempDir dir;
        SpanReporter reporter(settingsFor(dir.file("spans.jsonl"), ""), Poco::Logger::get("test.tracing"));
        reporter.start();
        makeSpans(reporter.queue(), 5);
        reporter.stop();
        auto spans = parseLines(berth::test::readText(dir.file("spans.jsonl")));
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), spans.size());
        for (auto& span : spans) CPPUNIT_ASSERT_EQUAL(std::string(), describeProblems(span));
        CPPUNIT_ASSERT_EQUAL(std::string("work 0"), spans[0]->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), reporter.reported());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), reporter.dropped());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), reporter.queued());
    }

    void testBatchesToCollector() {
        LoopbackServer collector;
        TraceSettings s = settingsFor("", collector.url());
        s.batchSize = 2;
        SpanReporter reporter(s, Poco::Logger::get("test.tracing"));
        reporter.start();
        makeSpans(reporter.queue(), 5);
        CPPUNIT_ASSERT(collector.waitFor([](const auto& calls) { return spansIn(calls) == 5; }));
        reporter.stop();
        auto calls = collector.received();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), calls.size());  // 2 + 2 + 1
        for (const auto& call : calls) {
            CPPUNIT_ASSERT_EQUAL(std::string("POST"), call.method);
            CPPUNIT_ASSERT_EQUAL(std::string("/api/v2/spans"), call.path);
            CPPUNIT_ASSERT_EQUAL(std::string("application/json"), call.header("Content-Type"));
            for (auto& span : parseBatch(call.body))
                CPPUNIT_ASSERT_EQUAL(std::string(), describeProblems(span));
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), reporter.reported());
    }

    void testFullQueueDropsAndCounts() {
        LoopbackServer down;
        const std::string url = down.url();
        down.stop();  // connections to it are refused
        TraceSettings s = settingsFor("", url);
        s.queueSize = 3;
        s.flushIntervalMs = 600000;  // nothing leaves the queue until stop()
        s.retries = 0;
        s.shutdownTimeoutMs = 300;
        SpanReporter reporter(s, Poco::Logger::get("test.tracing"));
        reporter.start();
        const auto before = std::chrono::steady_clock::now();
        makeSpans(reporter.queue(), 10);
        // Dropping never waits for the reporter or the collector.
        CPPUNIT_ASSERT(std::chrono::steady_clock::now() - before < std::chrono::milliseconds(200));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), reporter.dropped());
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), reporter.queued());
        reporter.stop();  // the collector never takes the 3: counted as dropped too
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(10), reporter.dropped());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), reporter.reported());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), reporter.queued());
    }

    void testCollectorDownThenUp() {
        int port;
        {
            LoopbackServer probe;
            port = probe.port();
        }  // closed: nothing listens there now
        TraceSettings s = settingsFor("", "http://127.0.0.1:" + std::to_string(port));
        s.retries = 1000;
        SpanReporter reporter(s, Poco::Logger::get("test.tracing"));
        reporter.start();
        makeSpans(reporter.queue(), 4);
        std::this_thread::sleep_for(std::chrono::milliseconds(400));  // a few refused attempts
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), reporter.reported());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), reporter.queued());
        LoopbackServer collector(port);  // up, on the same port
        CPPUNIT_ASSERT(collector.waitFor([](const auto& calls) { return spansIn(calls) == 4; }));
        reporter.stop();
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), reporter.reported());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), reporter.dropped());
    }

    void testCollectorErrorsAreRetriedThenGivenUp() {
        LoopbackServer collector;
        collector.setStatus(503);
        TraceSettings s = settingsFor("", collector.url());
        s.retries = 2;
        s.backoffInitialMs = 10;
        SpanReporter reporter(s, Poco::Logger::get("test.tracing"));
        reporter.start();
        makeSpans(reporter.queue(), 2);
        // One attempt and two retries of the one batch, then it is given up and counted.
        CPPUNIT_ASSERT(berth::test::eventually([&] { return reporter.dropped() == 2; },
                                               std::chrono::milliseconds(5000)));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), collector.received().size());
        collector.setStatus(202);
        makeSpans(reporter.queue(), 1);
        CPPUNIT_ASSERT(collector.waitFor([](const auto& calls) { return calls.size() == 4; }));
        reporter.stop();
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), reporter.reported());
    }

    void testFileKeepsSpansWhileCollectorIsBehind() {
        int port;
        {
            LoopbackServer probe;
            port = probe.port();
        }  // closed: the collector stays down
        TempDir dir;
        TraceSettings s = settingsFor(dir.file("spans.jsonl"), "http://127.0.0.1:" + std::to_string(port));
        s.queueSize = 2;
        s.retries = 1000;
        s.shutdownTimeoutMs = 200;
        SpanReporter reporter(s, Poco::Logger::get("test.tracing"));
        reporter.start();
        auto linesInFile = [&] { return parseLines(berth::test::readText(dir.file("spans.jsonl"))).size(); };
        makeSpans(reporter.queue(), 2);  // as many as the queue holds (tracing.queue_size)
        CPPUNIT_ASSERT(
            berth::test::eventually([&] { return linesInFile() == 2; }, std::chrono::milliseconds(5000)));
        // The collector's backlog is full (2): its excess is dropped, the file still gets them all.
        makeSpans(reporter.queue(), 2);
        CPPUNIT_ASSERT(
            berth::test::eventually([&] { return linesInFile() == 4; }, std::chrono::milliseconds(5000)));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), reporter.dropped());
        makeSpans(reporter.queue(), 2);  // maybe still queued at stop: written and counted too
        reporter.stop();
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), linesInFile());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), reporter.dropped());  // the collector never took any
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), reporter.reported());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), reporter.queued());
    }

    void testUnwritableFileErrorIsRateLimited() {
        Poco::AutoPtr<berth::test::CaptureChannel> capture(new berth::test::CaptureChannel);
        Poco::Logger& logger = Poco::Logger::get("test.tracing.unwritable");
        logger.setChannel(capture);
        TraceSettings s = settingsFor("/dev/full", "");  // every write fails (ENOSPC)
        s.fileRotateBytes = 0;
        SpanReporter reporter(s, logger);
        reporter.start();
        for (int round = 1; round <= 3; ++round) {
            makeSpans(reporter.queue(), 2);
            CPPUNIT_ASSERT(
                berth::test::eventually([&] { return reporter.dropped() == std::uint64_t(2 * round); },
                                        std::chrono::milliseconds(5000)));
        }
        reporter.stop();
        std::size_t errors = 0;
        for (const std::string& line : capture->lines)
            if (line.find("cannot append to /dev/full") != std::string::npos) ++errors;
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), errors);  // three failed flushes, one error within 10 s
        logger.setChannel(nullptr);
    }

    void testLongDurationSaturates() {
        // u32 µs holds ~71.6 minutes: a longer span reports the most it can, never a short wrap.
        const std::int64_t minute = 60LL * 1000000;
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(71 * minute), spanDurationUs(71 * minute));
        CPPUNIT_ASSERT_EQUAL(UINT32_MAX, spanDurationUs(72 * minute));
        CPPUNIT_ASSERT_EQUAL(UINT32_MAX, spanDurationUs(30 * 24 * 60 * minute));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), spanDurationUs(-5));
    }

    void testSpansDroppedWithAccessRecordsAreCounted() {
        // No access log writer running: past its 8 MB, records are dropped, and their spans with them.
        TempDir dir;
        SpanReporter reporter(settingsFor(dir.file("spans.jsonl"), ""), Poco::Logger::get("test.tracing"));
        Route route;
        route.pattern = RoutePattern::compile("/long");
        ServerSpan span;
        span.route = &route;
        span.startUs = steadyMicros();
        std::memcpy(span.spanHex, "a2fb4a1d1a96d312", 16);
        const std::string requestId = "463ac35c9f6413ad48485a3953bb6124";
        const std::string path = "/" + std::string(60000, 'p');
        AccessRecord record;
        record.status = 200;
        record.method = static_cast<std::uint8_t>(berth::Method::Get);
        record.path = path;
        record.requestId = requestId;
        record.traceId = record.requestId;
        record.span = {reinterpret_cast<const char*>(&span), sizeof span};
        AccessLog log(dir.file("access.log"), 0, 1);
        log.setSpanListener(&reporter);
        AccessLog::Shard* shard = log.createShard();
        for (int i = 0; i < 200; ++i) log.record(shard, record);
        CPPUNIT_ASSERT(log.dropped() > 0);
        CPPUNIT_ASSERT_EQUAL(log.dropped(), reporter.dropped());
        log.stop();
    }

    void testAccessLogHandover() {
        // Server spans ride on access log records: the access log's writer writes each record's
        // line and, in the same pass, its span, through the reporter (SpanListener::writeLines).
        TempDir dir;
        TraceSettings s = settingsFor(dir.file("spans.jsonl"), "");
        s.queueSize = 2;
        SpanReporter reporter(s, Poco::Logger::get("test.tracing"));
        Mount mount;
        mount.plugin = "hello";
        mount.prefix = "/hello";
        Route route;
        route.pattern = RoutePattern::compile("/greet/<name>");
        route.mount = &mount;
        ServerSpan span;
        span.route = &route;
        span.startUs = steadyMicros();
        std::memcpy(span.spanHex, "a2fb4a1d1a96d312", 16);
        const std::string requestId = "463ac35c9f6413ad48485a3953bb6124";
        AccessRecord record;
        record.unixMs = 1795614161415;
        record.durationUs = 77;
        record.bytes = 12;
        record.status = 200;
        record.method = static_cast<std::uint8_t>(berth::Method::Get);
        record.plugin = mount.plugin.c_str();
        record.route = route.pattern.source().c_str();
        record.path = "/hello/greet/you";
        record.requestId = requestId;
        record.traceId = record.requestId;  // a new trace of ours: the request id is its id
        record.span = {reinterpret_cast<const char*>(&span), sizeof span};
        AccessRecord notASpan = record;
        notASpan.span = "short";  // not a server span record: its line only
        AccessRecord untraced = record;
        untraced.traceId = {};
        untraced.span = {};
        {
            AccessLog log(dir.file("access.log"), 0, 1);
            log.setSpanListener(&reporter);
            AccessLog::Shard* shard = log.createShard();
            for (const AccessRecord& r : {record, notASpan, record, untraced, record}) log.record(shard, r);
            log.stop();  // one flush: the third span finds the bound (tracing.queue_size) reached
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), reporter.dropped());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), reporter.queued());
        reporter.start();
        reporter.stop();
        // Every record has its line, whatever became of its span.
        const std::string line =
            "{\"timestamp\":\"2026-11-25T13:42:41.415Z\",\"method\":\"GET\",\"path\":\"/hello/greet/you\","
            "\"route\":\"/greet/"
            "<name>\",\"plugin\":\"hello\",\"status\":200,\"bytes\":12,\"duration_ms\":0.077,"
            "\"request_id\":\"" +
            requestId + "\"";
        const std::string lines = berth::test::readText(dir.file("access.log"));
        const std::string traced = line + ",\"trace_id\":\"" + requestId + "\"}\n";
        CPPUNIT_ASSERT_EQUAL(traced + traced + traced + line + "}\n" + traced, lines);
        auto spans = parseLines(berth::test::readText(dir.file("spans.jsonl")));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), spans.size());
        for (auto& written : spans) {
            CPPUNIT_ASSERT_EQUAL(std::string(), describeProblems(written));
            CPPUNIT_ASSERT_EQUAL(std::string("GET /hello/greet/<name>"),
                                 written->getValue<std::string>("name"));
            CPPUNIT_ASSERT_EQUAL(requestId, written->getValue<std::string>("traceId"));
            CPPUNIT_ASSERT_EQUAL(std::string("a2fb4a1d1a96d312"), written->getValue<std::string>("id"));
            CPPUNIT_ASSERT_EQUAL(77, written->getValue<int>("duration"));
            Poco::JSON::Object::Ptr tags = written->getObject("tags");
            CPPUNIT_ASSERT_EQUAL(std::string("/hello/greet/you"), tags->getValue<std::string>("http.path"));
            CPPUNIT_ASSERT_EQUAL(std::string("200"), tags->getValue<std::string>("http.status_code"));
            CPPUNIT_ASSERT_EQUAL(std::string("hello"), tags->getValue<std::string>("plugin"));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SpanReporterTest);
