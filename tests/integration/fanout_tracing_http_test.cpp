// Tracing through berth::gather, end to end: berthd as a process with the visits plugin on the
// local PostgreSQL, GET /visits/visit_tasks/<id>/detail (one database read, then four downstream
// calls at once on the fan-out executor) to four MockService servers, spans to tracing.file. The
// caller's trace goes through the parallel tasks: the four services get its trace id (and a
// traceparent caller's tracestate, unchanged); the four client spans and the database span are in
// that trace with berthd's server span as their parent; an error answer names the trace.
#include <Poco/File.h>
#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "berth/testing.h"
#include "berthd_process.h"
#include "http_probe.h"
#include "test_schema.h"
#include "zipkin_schema.h"

using berth::Json;
using berth::test::BerthdProcess;
using berth::test::HttpProbe;
using berth::test::HttpResult;
using berth::test::TestSchema;
using berth::testing::MockCall;
using berth::testing::MockService;
using Poco::JSON::Object;

namespace {

const std::string kTrace = "463ac35c9f6413ad48485a3953bb6124";
const std::string kCallerSpan = "a2fb4a1d1a96d312";

}  // namespace

class FanOutTracingHttpTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FanOutTracingHttpTest);
    CPPUNIT_TEST(testB3TraceThroughTheParallelCalls);
    CPPUNIT_TEST(testTraceStateReachesEveryService);
    CPPUNIT_TEST(testErrorAnswersNameTheTrace);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        mocks_ = std::make_unique<Mocks>();
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}));
        mocks_->cities.get("/cities/3", Json::object({{"id", 3}}));
        mocks_->products.get("/products", Json::array({Json::object({{"id", 1}})}));
        mocks_->users.get("/users", Json::array({Json::object({{"id", 2}})}));
        schema_ = std::make_unique<TestSchema>("fanout_tracing");
        berthd_ = std::make_unique<BerthdProcess>();
        schema_->configure(*berthd_);
        berthd_->set("db.main.auto_migrate", "true");
        Poco::File(std::string(BERTH_PLUGIN_DIR) + "/visits.so").copyTo(berthd_->path("plugins/visits.so"));
        berthd_->writePluginSettings(
            "visits", "prefix = /visits\ndatabase = main\ncache_ttl_s = 0\ndetail_timeout_ms = 800\n");
        for (auto [name, mock] : services()) berthd_->set("clients." + name + ".url", mock->url());
        berthd_->set("tracing.enabled", "true");
        berthd_->set("tracing.sample_rate", "1");
        berthd_->set("tracing.file", berthd_->path("spans.jsonl"));
        berthd_->set("tracing.flush_interval_ms", "50");
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port());
        HttpResult created =
            http_->post("/visits/visit_tasks",
                        R"({"title":"Visit","hospital_id":7,"city_id":3,"product_ids":[1],"user_ids":[2]})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), 201, created.status);
        detailPath_ = "/visits/visit_tasks/" +
                      std::to_string(created.json()->getObject("data")->getValue<std::int64_t>("id")) +
                      "/detail";
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
        schema_.reset();
        mocks_.reset();
    }

    std::vector<std::pair<std::string, MockService*>> services() {
        return {{"hospital-service", &mocks_->hospitals},
                {"city-service", &mocks_->cities},
                {"product-service", &mocks_->products},
                {"user-service", &mocks_->users}};
    }

    /// Stops berthd (which flushes the spans) and returns those of `trace`, each checked against
    /// the Zipkin v2 schema.
    std::vector<Object::Ptr> spansOf(const std::string& trace) {
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
        std::vector<Object::Ptr> spans;
        for (const Object::Ptr& span :
             berth::test::parseLines(berth::test::readFile(berthd_->path("spans.jsonl")))) {
            CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(span));
            if (span->getValue<std::string>("traceId") == trace) spans.push_back(span);
        }
        return spans;
    }

    static std::string remoteService(const Object::Ptr& span) {
        return span->has("remoteEndpoint")
                   ? span->getObject("remoteEndpoint")->getValue<std::string>("serviceName")
                   : "";
    }

    void testB3TraceThroughTheParallelCalls() {
        HttpResult r = http_->get(detailPath_, {{"X-B3-TraceId", kTrace},
                                                {"X-B3-SpanId", kCallerSpan},
                                                {"X-B3-Sampled", "1"},
                                                {"X-Request-Id", "fanout-trace-1"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::size_t(0),
                                     r.json()->getObject("data")->getArray("errors")->size());

        // What each service got: the caller's trace, a client span of berthd's server span.
        std::map<std::string, std::string> serviceOfSpan;
        std::set<std::string> parents;
        for (auto [name, mock] : services()) {
            MockCall call = mock->received().at(0);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, kTrace, call.header("X-B3-TraceId"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, std::string("1"), call.header("X-B3-Sampled"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, std::string("fanout-trace-1"), call.header("X-Request-Id"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, "00-" + kTrace + "-" + call.header("X-B3-SpanId") + "-01",
                                         call.header("traceparent"));
            serviceOfSpan[call.header("X-B3-SpanId")] = name;
            parents.insert(call.header("X-B3-ParentSpanId"));
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), serviceOfSpan.size());
        CPPUNIT_ASSERT_EQUAL_MESSAGE("one parent for the four calls", std::size_t(1), parents.size());

        // What was reported: berthd's server span below the caller's, and below it the database
        // read and the four client spans made on the executor's threads.
        std::vector<Object::Ptr> spans = spansOf(kTrace);
        Object::Ptr server;
        for (const Object::Ptr& span : spans)
            if (span->getValue<std::string>("kind") == "SERVER") server = span;
        CPPUNIT_ASSERT_MESSAGE("no server span of the trace", server);
        const std::string serverId = server->getValue<std::string>("id");
        CPPUNIT_ASSERT_EQUAL(kCallerSpan, server->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(detailPath_, server->getObject("tags")->getValue<std::string>("http.path"));
        CPPUNIT_ASSERT_EQUAL(serverId, *parents.begin());

        std::size_t clients = 0, reads = 0;
        for (const Object::Ptr& span : spans) {
            if (span == server) continue;
            const std::string id = span->getValue<std::string>("id");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(id, std::string("CLIENT"), span->getValue<std::string>("kind"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(id, serverId, span->getValue<std::string>("parentId"));
            if (remoteService(span) == "postgresql") {
                ++reads;
                CPPUNIT_ASSERT_EQUAL(std::string("SELECT"), span->getValue<std::string>("name"));
            } else {
                ++clients;
                CPPUNIT_ASSERT_MESSAGE("a client span no service got: " + id, serviceOfSpan.count(id) == 1);
                CPPUNIT_ASSERT_EQUAL(serviceOfSpan[id], remoteService(span));
            }
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), clients);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), reads);
    }

    void testTraceStateReachesEveryService() {
        const std::string state = "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE";
        HttpResult r = http_->get(detailPath_, {{"traceparent", "00-" + kTrace + "-" + kCallerSpan + "-01"},
                                                {"tracestate", state}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        for (auto [name, mock] : services()) {
            MockCall call = mock->received().at(0);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, kTrace, call.header("X-B3-TraceId"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, state, call.header("tracestate"));
        }
        // From B3 the context is not W3C's: a tracestate sent along is not passed on.
        for (auto [name, mock] : services()) mock->reset();
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}));
        r = http_->get(detailPath_, {{"b3", kTrace + "-" + kCallerSpan + "-1"}, {"tracestate", state}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        MockCall call = mocks_->hospitals.received().at(0);
        CPPUNIT_ASSERT_EQUAL(kTrace, call.header("X-B3-TraceId"));
        CPPUNIT_ASSERT_EQUAL(std::string(), call.header("tracestate"));
    }

    void testErrorAnswersNameTheTrace() {
        // The fan-out's deadline (detail_timeout_ms = 800) passes: 504, naming the caller's trace.
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}))
            .delay(std::chrono::milliseconds(1500));
        HttpResult late = http_->get(detailPath_, {{"b3", kTrace + "-" + kCallerSpan + "-1"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(late.describe(), 504, late.status);
        CPPUNIT_ASSERT_EQUAL(kTrace, late.json()->optValue<std::string>("trace_id", "<none>"));
        // A new trace of berthd's: the request id is the trace id.
        HttpResult missing = http_->get("/visits/visit_tasks/999999/detail");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(missing.describe(), 404, missing.status);
        CPPUNIT_ASSERT_EQUAL(missing.json()->getValue<std::string>("request_id"),
                             missing.json()->optValue<std::string>("trace_id", "<none>"));
        CPPUNIT_ASSERT_EQUAL(missing.header("X-Request-Id"),
                             missing.json()->optValue<std::string>("trace_id", "<none>"));
        // The server span of the 504 is in the trace the answer named.
        bool found = false;
        for (const Object::Ptr& span : spansOf(kTrace))
            found = found || (span->getValue<std::string>("kind") == "SERVER" &&
                              span->getObject("tags")->getValue<std::string>("http.status_code") == "504");
        CPPUNIT_ASSERT_MESSAGE("no server span with status 504 in the trace", found);
    }

  private:
    // Made per test (CppUnit makes every fixture up front): four servers at a time.
    struct Mocks {
        MockService hospitals, cities, products, users;
    };
    std::unique_ptr<Mocks> mocks_;
    std::unique_ptr<TestSchema> schema_;
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
    std::string detailPath_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(FanOutTracingHttpTest);
