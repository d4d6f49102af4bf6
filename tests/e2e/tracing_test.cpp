// Tracing with berthd as a process (the hello plugin, no database): spans in tracing.file as
// Zipkin v2 JSON lines, the caller's context continued, sampling (the rate and the caller's
// decision), a full queue that drops and counts while requests are unaffected, a collector that is
// down and then comes up, configuration errors, and the trace id in error answers.
#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "berthd_process.h"
#include "http_probe.h"
#include "loopback_server.h"
#include "zipkin_schema.h"

using berth::test::BerthdProcess;
using berth::test::HttpProbe;
using berth::test::HttpResult;
using berth::test::LoopbackServer;
using Poco::JSON::Object;

namespace {

const std::string kTrace = "0af7651916cd43dd8448eb211c80319c";
const std::string kCallerSpan = "b7ad6b7169203331";

}  // namespace

class TracingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TracingTest);
    CPPUNIT_TEST(testFileAndPropagation);
    CPPUNIT_TEST(testSampling);
    CPPUNIT_TEST(testFullQueueDropsRequestsUnaffected);
    CPPUNIT_TEST(testCollectorDownThenUp);
    CPPUNIT_TEST(testConfigurationErrors);
    CPPUNIT_TEST(testErrorAnswersNameTheTrace);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addHelloPlugin();
        berthd_->set("tracing.enabled", "true");
        berthd_->set("tracing.flush_interval_ms", "50");
    }
    void tearDown() override { berthd_.reset(); }

    std::vector<Object::Ptr> fileSpans() {
        return berth::test::parseLines(berth::test::readFile(berthd_->path("spans.jsonl")));
    }

    void testFileAndPropagation() {
        berthd_->set("tracing.file", "spans.jsonl");  // relative: next to berth.properties
        berthd_->set("http.access_log_file", berthd_->path("access.log"));
        berthd_->start();
        HttpProbe http(berthd_->port());
        HttpResult r =
            http.get("/hello/greet/ann", {{"traceparent", "00-" + kTrace + "-" + kCallerSpan + "-01"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        for (const char* name : {"traceparent", "b3", "X-B3-TraceId"})
            CPPUNIT_ASSERT_MESSAGE(name, !r.has(name));
        HttpResult own = http.get("/hello/greet/bob");  // no caller context: its request id is its trace id
        http.get("/nope");                              // not routed to a plugin: no span
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());       // flushes

        std::vector<Object::Ptr> spans = fileSpans();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), spans.size());
        for (const auto& span : spans)
            CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(span));
        Object::Ptr continued = spans[0]->getValue<std::string>("traceId") == kTrace ? spans[0] : spans[1];
        Object::Ptr fresh = continued == spans[0] ? spans[1] : spans[0];
        CPPUNIT_ASSERT_EQUAL(kTrace, continued->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(kCallerSpan, continued->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("GET /hello/greet/<name>"),
                             continued->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("/hello/greet/ann"),
                             continued->getObject("tags")->getValue<std::string>("http.path"));
        CPPUNIT_ASSERT_EQUAL(own.header("X-Request-Id"), fresh->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT(!fresh->has("parentId"));
        // The access log line names the trace.
        std::string access = berth::test::readFile(berthd_->path("access.log"));
        CPPUNIT_ASSERT_MESSAGE(access, access.find("\"trace_id\":\"" + kTrace + "\"") != std::string::npos);
    }

    void testSampling() {
        berthd_->set("tracing.file", berthd_->path("spans.jsonl"));
        berthd_->set("tracing.sample_rate", "0");
        berthd_->start();
        HttpProbe http(berthd_->port());
        http.get("/hello/greet/a");  // the rate: not sampled
        http.get("/hello/greet/b",
                 {{"b3", kTrace + "-" + kCallerSpan + "-1"}});  // the caller's decision wins
        http.get("/hello/greet/c", {{"X-B3-Sampled", "1"}});    // a decision without ids
        http.get("/hello/greet/d", {{"b3", "garbage"}});        // ignored: the rate decides
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
        std::vector<Object::Ptr> spans = fileSpans();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), spans.size());
        std::map<std::string, std::string> traceOfPath;
        for (const auto& span : spans)
            traceOfPath[span->getObject("tags")->getValue<std::string>("http.path")] =
                span->getValue<std::string>("traceId");
        CPPUNIT_ASSERT_EQUAL(kTrace, traceOfPath["/hello/greet/b"]);
        CPPUNIT_ASSERT(berth::test::isLowerHex(traceOfPath["/hello/greet/c"], 32));
    }

    void testFullQueueDropsRequestsUnaffected() {
        LoopbackServer down;
        const std::string url = down.url("/api/v2/spans");
        down.stop();  // refused
        berthd_->set("tracing.zipkin.url", url);
        berthd_->set("tracing.queue_size", "2");
        berthd_->set("tracing.zipkin.retries", "0");
        berthd_->set("http.access_log", "false");  // server spans then go through the span queue
        berthd_->start();
        HttpProbe http(berthd_->port());
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < 60; ++i) {
            HttpResult r = http.get("/hello/greet/q" + std::to_string(i));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        }
        CPPUNIT_ASSERT_MESSAGE("requests waited for the collector",
                               std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
        // The drop counter, through /metrics (the reporter's dropped() and queued() getters).
        double dropped = 0;
        for (int i = 0; i < 100 && dropped == 0; ++i) {
            std::string metrics = http.get("/metrics").body;
            std::size_t at = metrics.find("\nberth_trace_spans_dropped_total ");
            if (at != std::string::npos) dropped = std::stod(metrics.substr(at + 33));
            if (dropped == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CPPUNIT_ASSERT_MESSAGE("no dropped spans in /metrics", dropped > 0);
        CPPUNIT_ASSERT(berthd_->waitForLog("span(s) dropped", 15000));
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

    void testCollectorDownThenUp() {
        const int port = berth::test::pickFreePort();  // nothing listens there now
        berthd_->set("tracing.zipkin.url", "http://127.0.0.1:" + std::to_string(port) + "/api/v2/spans");
        berthd_->set("tracing.zipkin.backoff_initial_ms", "100");
        berthd_->set("tracing.zipkin.backoff_max_ms", "400");
        berthd_->set("tracing.zipkin.retries", "1000");
        berthd_->start();
        HttpProbe http(berthd_->port());
        for (int i = 0; i < 3; ++i)
            CPPUNIT_ASSERT_EQUAL(200, http.get("/hello/greet/late" + std::to_string(i)).status);
        CPPUNIT_ASSERT(berthd_->waitForLog("retrying with backoff", 5000));
        LoopbackServer collector(port);
        CPPUNIT_ASSERT_MESSAGE(berthd_->log(), collector.waitFor([](const auto& calls) {
            return berth::test::parseBatches(calls).size() >= 3;
        }));
        CPPUNIT_ASSERT(berthd_->waitForLog("takes spans again", 5000));
        for (const auto& span : berth::test::parseBatches(collector.received()))
            CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(span));
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

    void testConfigurationErrors() {
        berthd_->set("tracing.sample_rate", "2");
        berth::test::RunResult r = berthd_->run({"--check-config", "--config", berthd_->configFile()});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.output(), 78, r.exitCode);
        CPPUNIT_ASSERT_MESSAGE(
            r.output(),
            r.output().find("tracing.sample_rate = '2' is not a number from 0 to 1") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(
            r.output(), r.output().find("neither tracing.zipkin.url nor tracing.file") != std::string::npos);
        // A file that cannot be created: berthd says so and does not serve.
        berthd_->set("tracing.sample_rate", "1");
        berthd_->set("tracing.file", "/proc/berth-no-such/spans.jsonl");
        r = berthd_->run({"--config", berthd_->configFile()});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.output(), 73, r.exitCode);
        CPPUNIT_ASSERT_MESSAGE(r.output(), r.output().find("tracing: ") != std::string::npos);
    }

    // An error answer of a traced request names the trace next to the request id — also the 504
    // the I/O loop sends for a handler still running; answers of requests no plugin route served,
    // and every answer of a berthd without tracing, have no trace_id.
    void testErrorAnswersNameTheTrace() {
        berthd_->addFixture("slow");
        berthd_->set("http.handler_timeout", "1");
        berthd_->set("tracing.file", berthd_->path("spans.jsonl"));
        berthd_->start();
        HttpProbe http(berthd_->port());
        HttpResult failed =
            http.get("/hello/error", {{"traceparent", "00-" + kTrace + "-" + kCallerSpan + "-01"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(failed.describe(), 422, failed.status);
        CPPUNIT_ASSERT_EQUAL(kTrace, failed.json()->optValue<std::string>("trace_id", "<none>"));
        CPPUNIT_ASSERT_EQUAL(failed.header("X-Request-Id"),
                             failed.json()->getValue<std::string>("request_id"));
        HttpResult crashed = http.get("/hello/crash");  // a new trace: the request id is its id
        CPPUNIT_ASSERT_EQUAL_MESSAGE(crashed.describe(), 500, crashed.status);
        CPPUNIT_ASSERT_EQUAL(crashed.header("X-Request-Id"),
                             crashed.json()->optValue<std::string>("trace_id", "<none>"));
        HttpResult late = http.get("/slow/sleep/2500", {{"b3", kTrace + "-" + kCallerSpan + "-1"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(late.describe(), 504, late.status);
        CPPUNIT_ASSERT_EQUAL(kTrace, late.json()->optValue<std::string>("trace_id", "<none>"));
        HttpResult missing = http.get("/nope", {{"b3", kTrace + "-" + kCallerSpan + "-1"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(missing.describe(), 404, missing.status);
        CPPUNIT_ASSERT_MESSAGE(missing.body, !missing.json()->has("trace_id"));
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
        // The trace the answers named holds their server spans.
        std::map<std::string, std::string> statusOfPath;
        for (const auto& span : fileSpans())
            if (span->getValue<std::string>("traceId") == kTrace)
                statusOfPath[span->getObject("tags")->getValue<std::string>("http.path")] =
                    span->getObject("tags")->getValue<std::string>("http.status_code");
        CPPUNIT_ASSERT_EQUAL(std::string("422"), statusOfPath["/hello/error"]);
        CPPUNIT_ASSERT_EQUAL(std::string("504"), statusOfPath["/slow/sleep/2500"]);

        BerthdProcess untraced;
        untraced.addHelloPlugin();
        untraced.start();
        HttpResult plain =
            HttpProbe(untraced.port()).get("/hello/error", {{"b3", kTrace + "-" + kCallerSpan + "-1"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(plain.describe(), 422, plain.status);
        CPPUNIT_ASSERT_MESSAGE(plain.body, !plain.json()->has("trace_id"));
        CPPUNIT_ASSERT_EQUAL(0, untraced.stop());
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(TracingTest);
