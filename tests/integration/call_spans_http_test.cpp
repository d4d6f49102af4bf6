// The spans of a request's calls, berthd as a process with the trace_probe fixture, spans to
// tracing.file: a ctx.http() call (the host's client) is a CLIENT span named by its method, with
// the service as remote endpoint, the http tags, and the calling span — a berth::Span of the
// plugin's — as parent, and the downstream service (a real HTTP server on 127.0.0.1) got that span's
// ids. A failed call carries the `error` tag: a service that is not listening, a 503 answer. So do
// a statement the local PostgreSQL refuses and a command the local Redis refuses.
#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>

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

const std::string kTrace = "5b8efff798038103d269b633813fc60c";
const std::string kCallerSpan = "eee19b7ec3c1b174";

std::string tag(const Object::Ptr& span, const std::string& key) {
    Object::Ptr tags = span->getObject("tags");
    return tags && tags->has(key) ? tags->getValue<std::string>(key) : "<absent>";
}

std::string remoteService(const Object::Ptr& span) {
    return span->has("remoteEndpoint")
               ? span->getObject("remoteEndpoint")->getValue<std::string>("serviceName")
               : "<absent>";
}

std::string describe(const Object::Ptr& span) {
    std::ostringstream text;
    span->stringify(text);
    return text.str();
}

}  // namespace

class CallSpansHttpTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CallSpansHttpTest);
    CPPUNIT_TEST(testHttpClientCallIsAChildOfTheCallingSpan);
    CPPUNIT_TEST(testFailedDownstreamCallsAreMarked);
    CPPUNIT_TEST(testFailedStatementIsMarked);
    CPPUNIT_TEST(testRefusedRedisCommandIsMarked);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        schema_ = std::make_unique<TestSchema>("call_spans");
        patients_ = std::make_unique<LoopbackServer>();
        patients_->setStatus(200);
        failing_ = std::make_unique<LoopbackServer>();
        failing_->setStatus(503);
        berth::test::RedisEnv redis = berth::test::redisEnv();
        berthd_ = std::make_unique<BerthdProcess>();
        schema_->configure(*berthd_);
        berthd_->addFixture("trace_probe");
        berthd_->writePluginSettings("trace_probe", "database = main\nservices = patients, failing, dead\n");
        berthd_->set("clients.patients.url", patients_->url("/api"));
        berthd_->set("clients.failing.url", failing_->url());
        berthd_->set("clients.dead.url", "http://127.0.0.1:" + std::to_string(berth::test::pickFreePort()));
        berthd_->set("clients.dead.retries", "0");  // one attempt: one span
        berthd_->set("redis.host", redis.host);
        berthd_->set("redis.port", std::to_string(redis.port));
        berthd_->set("redis.password", "${system.env.BERTH_REDIS_PASSWORD}");
        berthd_->set("redis.db", std::to_string(redis.db));
        berthd_->set("tracing.enabled", "true");
        berthd_->set("tracing.file", berthd_->path("spans.jsonl"));
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port());
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
        failing_.reset();
        patients_.reset();
        schema_.reset();
    }

    /// GET `target` as a child of the caller's span in trace kTrace.
    HttpResult traced(const std::string& target) {
        return http_->get(target, {{"b3", kTrace + "-" + kCallerSpan + "-1"}});
    }

    /// Stops berthd (which flushes) and returns every span, each valid Zipkin v2.
    std::vector<Object::Ptr> spans() {
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
        std::vector<Object::Ptr> all =
            berth::test::parseLines(berth::test::readFile(berthd_->path("spans.jsonl")));
        for (const Object::Ptr& span : all) {
            CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(span, false));
            CPPUNIT_ASSERT_EQUAL(kTrace, span->getValue<std::string>("traceId"));
        }
        return all;
    }

    static Object::Ptr only(const std::vector<Object::Ptr>& spans, const std::string& name,
                            const std::string& kind = "CLIENT") {
        Object::Ptr found;
        int count = 0;
        std::string all;
        for (const Object::Ptr& span : spans) {
            all += describe(span) + "\n";
            const std::string spanKind = span->has("kind") ? span->getValue<std::string>("kind") : "";
            if (span->getValue<std::string>("name") == name && spanKind == kind) {
                found = span;
                ++count;
            }
        }
        CPPUNIT_ASSERT_EQUAL_MESSAGE(kind + " span '" + name + "' in:\n" + all, 1, count);
        return found;
    }

    void testHttpClientCallIsAChildOfTheCallingSpan() {
        HttpResult r = traced("/trace_probe/http/patients");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        Object::Ptr data = r.json()->getObject("data");
        CPPUNIT_ASSERT_EQUAL(200, data->getValue<int>("status"));
        const std::string lookupId = data->getValue<std::string>("lookup_span");

        const LoopbackServer::Call call = patients_->received().at(0);
        CPPUNIT_ASSERT_EQUAL(std::string("/api/patients/7?full=1"), call.path);  // the url's path in front
        CPPUNIT_ASSERT_EQUAL(kTrace, call.header("X-B3-TraceId"));
        CPPUNIT_ASSERT_EQUAL(lookupId, call.header("X-B3-ParentSpanId"));

        std::vector<Object::Ptr> all = spans();
        Object::Ptr server = only(all, "GET /trace_probe/http/<service>", "SERVER");
        Object::Ptr lookup = only(all, "lookup patients", "");
        Object::Ptr client = only(all, "GET");
        CPPUNIT_ASSERT_EQUAL(kCallerSpan, server->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(lookupId, lookup->getValue<std::string>("id"));
        CPPUNIT_ASSERT_EQUAL(server->getValue<std::string>("id"), lookup->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(lookupId, client->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(call.header("X-B3-SpanId"), client->getValue<std::string>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("patients"), remoteService(client));
        CPPUNIT_ASSERT_EQUAL(std::string("berthd"),
                             client->getObject("localEndpoint")->getValue<std::string>("serviceName"));
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), tag(client, "http.method"));
        CPPUNIT_ASSERT_EQUAL(std::string("/api/patients/7?full=1"), tag(client, "http.path"));
        CPPUNIT_ASSERT_EQUAL(std::string("200"), tag(client, "http.status_code"));
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), tag(client, "error"));
        // Within its parent's time.
        const long long start = client->getValue<long long>("timestamp");
        CPPUNIT_ASSERT(start >= lookup->getValue<long long>("timestamp"));
        CPPUNIT_ASSERT(start + client->getValue<long long>("duration") <=
                       lookup->getValue<long long>("timestamp") + lookup->getValue<long long>("duration"));
    }

    void testFailedDownstreamCallsAreMarked() {
        HttpResult unreachable = traced("/trace_probe/http/dead");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(unreachable.describe(), 502, unreachable.status);
        HttpResult refused = traced("/trace_probe/http/failing");  // answered: a 503
        CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.describe(), 200, refused.status);
        CPPUNIT_ASSERT_EQUAL(503, refused.json()->getObject("data")->getValue<int>("status"));

        std::vector<Object::Ptr> all = spans();
        std::vector<Object::Ptr> clients;
        for (const Object::Ptr& span : all)
            if (span->has("kind") && span->getValue<std::string>("kind") == "CLIENT") clients.push_back(span);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), clients.size());  // clients.dead.retries = 0: one attempt
        Object::Ptr dead = remoteService(clients[0]) == "dead" ? clients[0] : clients[1];
        Object::Ptr failing = dead == clients[0] ? clients[1] : clients[0];
        CPPUNIT_ASSERT_EQUAL(std::string("dead"), remoteService(dead));
        CPPUNIT_ASSERT_EQUAL(std::string("failing"), remoteService(failing));
        // Nothing answered: the reason, and no status.
        CPPUNIT_ASSERT_MESSAGE(describe(dead),
                               tag(dead, "error").find("onnection refused") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), tag(dead, "http.status_code"));
        CPPUNIT_ASSERT_EQUAL(only(all, "lookup dead", "")->getValue<std::string>("id"),
                             dead->getValue<std::string>("parentId"));
        // An answer of 5xx.
        CPPUNIT_ASSERT_EQUAL(std::string("503"), tag(failing, "http.status_code"));
        CPPUNIT_ASSERT_EQUAL(std::string("status 503"), tag(failing, "error"));
    }

    void testFailedStatementIsMarked() {
        HttpResult r = traced("/trace_probe/db-error");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 500, r.status);
        std::vector<Object::Ptr> all = spans();
        Object::Ptr server = only(all, "GET /trace_probe/db-error", "SERVER");
        Object::Ptr statement = only(all, "SELECT");
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql"), remoteService(statement));
        CPPUNIT_ASSERT_EQUAL(server->getValue<std::string>("id"),
                             statement->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT n FROM trace_probe_no_such_table WHERE n = $1"),
                             tag(statement, "db.statement"));
        CPPUNIT_ASSERT_MESSAGE(describe(statement),
                               tag(statement, "error").rfind("SQLSTATE 42P01: ", 0) == 0);
    }

    void testRefusedRedisCommandIsMarked() {
        const std::string key = berth::test::uniquePlugin();
        HttpResult r = traced("/trace_probe/cache-error/" + key);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        Object::Ptr data = r.json()->getObject("data");
        CPPUNIT_ASSERT_MESSAGE(r.describe(), data->getValue<bool>("stored"));
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !data->getValue<bool>("incremented"));
        berth::test::rawDelete("*trace_probe:" + key);
        std::vector<Object::Ptr> all = spans();
        const std::string server =
            only(all, "GET /trace_probe/cache-error/<key>", "SERVER")->getValue<std::string>("id");
        Object::Ptr set = only(all, "set"), incr = only(all, "incr");
        for (const Object::Ptr& span : {set, incr}) {
            CPPUNIT_ASSERT_EQUAL(std::string("redis"), remoteService(span));
            CPPUNIT_ASSERT_EQUAL(server, span->getValue<std::string>("parentId"));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("<absent>"), tag(set, "error"));
        CPPUNIT_ASSERT_EQUAL(std::string("Redis refused incr"), tag(incr, "error"));
    }

  private:
    std::unique_ptr<TestSchema> schema_;
    std::unique_ptr<LoopbackServer> patients_;
    std::unique_ptr<LoopbackServer> failing_;
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CallSpansHttpTest);
