// Tracing end to end, berthd as a process against the local PostgreSQL: a request with incoming B3
// (or W3C traceparent) headers to a route that runs a database query and calls a downstream service
// (a real HTTP server on 127.0.0.1 that records the headers it got). The downstream call carries
// the incoming trace id and the client span as parent; a real HTTP collector on 127.0.0.1 receives
// the server span, the DB span (the statement, never its parameters) and the client span, with the
// incoming trace id, correct parent links, and each valid against the Zipkin v2 schema. And the
// local Redis: one span per round trip, a pipeline's commands named in one span.
#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "berthd_process.h"
#include "http_probe.h"
#include "loopback_server.h"
#include "redis_env.h"
#include "test_schema.h"
#include "zipkin_schema.h"

using berth::test::BerthdProcess;
using berth::test::HttpProbe;
using berth::test::HttpResult;
using berth::test::LoopbackServer;
using berth::test::TestSchema;
using Poco::JSON::Object;

namespace {

const std::string kTrace = "463ac35c9f6413ad48485a3953bb6124";
const std::string kCallerSpan = "a2fb4a1d1a96d312";

// Every span the collector received, by id.
std::map<std::string, Object::Ptr> spansById(const LoopbackServer& collector) {
    std::map<std::string, Object::Ptr> spans;
    for (const Object::Ptr& span : berth::test::parseBatches(collector.received()))
        spans[span->getValue<std::string>("id")] = span;
    return spans;
}

std::size_t spansOfTrace(const LoopbackServer& collector, const std::string& trace) {
    std::size_t n = 0;
    for (const auto& [id, span] : spansById(collector)) n += span->getValue<std::string>("traceId") == trace;
    return n;
}

}  // namespace

class TracingHttpTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TracingHttpTest);
    CPPUNIT_TEST(testB3ThroughDatabaseAndDownstream);
    CPPUNIT_TEST(testTraceparentNotSampledIsPassedOn);
    CPPUNIT_TEST(testRedisRoundTrips);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        schema_ = std::make_unique<TestSchema>("tracing");
        collector_ = std::make_unique<LoopbackServer>();
        downstream_ = std::make_unique<LoopbackServer>();
        downstream_->setStatus(200);
        berthd_ = std::make_unique<BerthdProcess>();
        schema_->configure(*berthd_);
        berthd_->addFixture("trace_probe");
        berthd_->writePluginSettings("trace_probe", "database = main\ndownstream_port = " +
                                                        std::to_string(downstream_->port()) + "\n");
        berthd_->set("tracing.enabled", "true");
        berthd_->set("tracing.service_name", "berthd-it");
        berthd_->set("tracing.zipkin.url", collector_->url("/api/v2/spans"));
        berthd_->set("tracing.flush_interval_ms", "50");
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port());
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
        downstream_.reset();
        collector_.reset();
        schema_.reset();
    }

    void testB3ThroughDatabaseAndDownstream() {
        HttpResult r =
            http_->get("/trace_probe/work",
                       {{"X-B3-TraceId", kTrace}, {"X-B3-SpanId", kCallerSpan}, {"X-B3-Sampled", "1"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        Object::Ptr data = r.json()->getObject("data");
        CPPUNIT_ASSERT_EQUAL(42, data->getValue<int>("n"));
        CPPUNIT_ASSERT_EQUAL(200, data->getValue<int>("downstream"));
        CPPUNIT_ASSERT_EQUAL(kTrace, data->getValue<std::string>("trace_id"));  // berth::currentTrace()
        // The answer carries nothing new.
        for (const char* name : {"X-B3-TraceId", "X-B3-SpanId", "b3", "traceparent"})
            CPPUNIT_ASSERT_MESSAGE(name, !r.has(name));

        // What the downstream service got.
        const LoopbackServer::Call call = downstream_->received().at(0);
        CPPUNIT_ASSERT_EQUAL(kTrace, call.header("X-B3-TraceId"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), call.header("X-B3-Sampled"));
        const std::string clientSpan = call.header("X-B3-SpanId");
        const std::string serverSpan = call.header("X-B3-ParentSpanId");
        CPPUNIT_ASSERT(berth::test::isLowerHex(clientSpan, 16) && berth::test::isLowerHex(serverSpan, 16));
        CPPUNIT_ASSERT_EQUAL(kTrace + "-" + clientSpan + "-1-" + serverSpan, call.header("b3"));
        CPPUNIT_ASSERT_EQUAL("00-" + kTrace + "-" + clientSpan + "-01", call.header("traceparent"));

        // What the collector got: server, DB and client spans of the caller's trace.
        CPPUNIT_ASSERT_MESSAGE(
            "the collector did not get three spans of the trace",
            collector_->waitFor([&](const auto&) { return spansOfTrace(*collector_, kTrace) >= 3; }));
        std::map<std::string, Object::Ptr> spans = spansById(*collector_);
        for (const auto& [id, span] : spans)
            CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(span));
        for (const auto& c : collector_->received()) {
            CPPUNIT_ASSERT_EQUAL(std::string("/api/v2/spans"), c.path);
            CPPUNIT_ASSERT_EQUAL(std::string("application/json"), c.header("Content-Type"));
        }

        CPPUNIT_ASSERT_MESSAGE("no server span " + serverSpan, spans.count(serverSpan) == 1);
        Object::Ptr server = spans[serverSpan];
        CPPUNIT_ASSERT_EQUAL(std::string("SERVER"), server->getValue<std::string>("kind"));
        CPPUNIT_ASSERT_EQUAL(kTrace, server->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(kCallerSpan, server->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("GET /trace_probe/work"), server->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("berthd-it"),
                             server->getObject("localEndpoint")->getValue<std::string>("serviceName"));
        Object::Ptr tags = server->getObject("tags");
        CPPUNIT_ASSERT_EQUAL(std::string("200"), tags->getValue<std::string>("http.status_code"));
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), tags->getValue<std::string>("http.method"));
        CPPUNIT_ASSERT_EQUAL(std::string("/trace_probe/work"), tags->getValue<std::string>("http.path"));
        CPPUNIT_ASSERT_EQUAL(std::string("trace_probe"), tags->getValue<std::string>("plugin"));

        CPPUNIT_ASSERT_MESSAGE("no client span " + clientSpan, spans.count(clientSpan) == 1);
        Object::Ptr client = spans[clientSpan];
        CPPUNIT_ASSERT_EQUAL(std::string("CLIENT"), client->getValue<std::string>("kind"));
        CPPUNIT_ASSERT_EQUAL(serverSpan, client->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("downstream"),
                             client->getObject("remoteEndpoint")->getValue<std::string>("serviceName"));
        CPPUNIT_ASSERT_EQUAL(std::string("200"),
                             client->getObject("tags")->getValue<std::string>("http.status_code"));

        Object::Ptr db;
        for (const auto& [id, span] : spans)
            if (span->has("remoteEndpoint") &&
                span->getObject("remoteEndpoint")->getValue<std::string>("serviceName") == "postgresql")
                db = span;
        CPPUNIT_ASSERT_MESSAGE("no DB span", db);
        CPPUNIT_ASSERT_EQUAL(std::string("CLIENT"), db->getValue<std::string>("kind"));
        CPPUNIT_ASSERT_EQUAL(kTrace, db->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(serverSpan, db->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT"), db->getValue<std::string>("name"));
        Object::Ptr dbTags = db->getObject("tags");
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT $1::int8 + 1 AS n"),
                             dbTags->getValue<std::string>("db.statement"));
        CPPUNIT_ASSERT_EQUAL(std::string("main"), dbTags->getValue<std::string>("db.instance"));
        for (const auto& [key, value] : *dbTags)  // the parameter (41) is in no tag
            CPPUNIT_ASSERT_MESSAGE(key, value.toString().find("41") == std::string::npos);
        // Children within their parent's time.
        for (const Object::Ptr& child : {db, client}) {
            CPPUNIT_ASSERT(child->getValue<long long>("timestamp") >=
                           server->getValue<long long>("timestamp"));
            CPPUNIT_ASSERT(child->getValue<long long>("timestamp") + child->getValue<long long>("duration") <=
                           server->getValue<long long>("timestamp") +
                               server->getValue<long long>("duration"));
        }
    }

    void testTraceparentNotSampledIsPassedOn() {
        const std::string parent = "00f067aa0ba902b7";
        HttpResult r =
            http_->get("/trace_probe/work", {{"traceparent", "00-" + kTrace + "-" + parent + "-00"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        const LoopbackServer::Call call = downstream_->received().at(0);
        CPPUNIT_ASSERT_EQUAL(kTrace, call.header("X-B3-TraceId"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), call.header("X-B3-Sampled"));
        CPPUNIT_ASSERT_EQUAL(parent, call.header("X-B3-ParentSpanId"));  // our server span's parent
        CPPUNIT_ASSERT(call.header("traceparent").rfind("00-" + kTrace + "-", 0) == 0);
        CPPUNIT_ASSERT(call.header("traceparent").substr(53) == "00");
        // A sampled request afterwards does reach the collector: the unsampled one did not.
        http_->get("/trace_probe/ids", {{"b3", "1"}});
        CPPUNIT_ASSERT(collector_->waitFor([](const auto& calls) { return !calls.empty(); }));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), spansOfTrace(*collector_, kTrace));
    }

    void testRedisRoundTrips() {
        berth::test::RedisEnv env = berth::test::redisEnv();
        BerthdProcess berthd;
        berthd.addFixture("cache_probe");
        berthd.set("redis.host", env.host);
        berthd.set("redis.port", std::to_string(env.port));
        berthd.set("redis.password", "${system.env.BERTH_REDIS_PASSWORD}");
        berthd.set("redis.db", std::to_string(env.db));
        berthd.set("tracing.enabled", "true");
        berthd.set("tracing.file", berthd.path("spans.jsonl"));
        berthd.start();
        HttpProbe http(berthd.port());
        const std::string key = berth::test::uniquePlugin();
        CPPUNIT_ASSERT_EQUAL(
            200, http.get("/cache_probe/set/" + key + "/v", {{"b3", kTrace + "-" + kCallerSpan}}).status);
        CPPUNIT_ASSERT_EQUAL(
            200, http.get("/cache_probe/count/" + key + "-n", {{"b3", kTrace + "-" + kCallerSpan}}).status);
        CPPUNIT_ASSERT_EQUAL(0, berthd.stop());
        std::map<std::string, Object::Ptr> byName;
        std::map<std::string, std::string> serverOfPath;
        for (const Object::Ptr& span :
             berth::test::parseLines(berth::test::readFile(berthd.path("spans.jsonl")))) {
            CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(span));
            if (span->getValue<std::string>("kind") == "SERVER")
                serverOfPath[span->getObject("tags")->getValue<std::string>("http.path")] =
                    span->getValue<std::string>("id");
            else
                byName[span->getValue<std::string>("name")] = span;
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), byName.size());
        Object::Ptr set = byName["set"], pipeline = byName["pipeline"];
        CPPUNIT_ASSERT_MESSAGE("no span of the SET", set);
        CPPUNIT_ASSERT_MESSAGE("no span of the pipeline", pipeline);
        CPPUNIT_ASSERT_EQUAL(std::string("redis"),
                             set->getObject("remoteEndpoint")->getValue<std::string>("serviceName"));
        CPPUNIT_ASSERT_EQUAL(std::string("set"),
                             set->getObject("tags")->getValue<std::string>("redis.commands"));
        CPPUNIT_ASSERT_EQUAL(serverOfPath["/cache_probe/set/" + key + "/v"],
                             set->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("incr expire get"),
                             pipeline->getObject("tags")->getValue<std::string>("redis.commands"));
        CPPUNIT_ASSERT_EQUAL(serverOfPath["/cache_probe/count/" + key + "-n"],
                             pipeline->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(kTrace, pipeline->getValue<std::string>("traceId"));
        // Keys and values are not in the spans.
        for (const Object::Ptr& span : {set, pipeline}) {
            std::ostringstream text;
            span->stringify(text);
            CPPUNIT_ASSERT_MESSAGE(text.str(), text.str().find(key) == std::string::npos);
        }
    }

  private:
    std::unique_ptr<TestSchema> schema_;
    std::unique_ptr<LoopbackServer> collector_;
    std::unique_ptr<LoopbackServer> downstream_;
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(TracingHttpTest);
