// berth::gather inside a traced request, with tracing on (spans to a file) and the host's
// downstream clients calling MockService servers on 127.0.0.1: every task runs under the request's
// span — spans it opens are its children, its calls carry the request's trace id in B3 and
// traceparent (and the tracestate to pass on), its log lines name the request and the span. The
// executor's threads keep nothing of it afterwards, also after a task threw; and a task that
// outlives its gather's timeout still runs under the request's span after the caller's own
// storage is gone (it runs under a copy).
#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "berth/error.h"
#include "berth/fanout.h"
#include "berth/testing.h"
#include "client/host_http_client.h"
#include "eventually.h"
#include "installed_fanout.h"
#include "observe/log_context.h"
#include "test_helpers.h"
#include "trace/current_span.h"
#include "trace/propagation.h"
#include "trace/span_scope.h"
#include "trace/trace_state.h"
#include "trace/tracing.h"
#include "trace_test_helpers.h"
#include "zipkin_schema.h"

using berth::gather;
using berth::Json;
using berth::server::ClientSettings;
using berth::server::CurrentSpanScope;
using berth::server::HostHttpClient;
using berth::server::LogContextScope;
using berth::server::SpanKind;
using berth::server::SpanScope;
using berth::server::TraceContext;
using berth::server::TraceStateScope;
using berth::testing::MockCall;
using berth::testing::MockService;
using Poco::JSON::Object;
using std::chrono::milliseconds;

namespace {

const std::string kTrace = "463ac35c9f6413ad48485a3953bb6124";
const std::string kRequestSpan = "1111111111111111";
const std::string kTraceState = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";

/// The request's server span: kTrace, span kRequestSpan, sampled, below a caller's span.
TraceContext requestSpan() {
    TraceContext c = berth::test::sampledRequest();
    c.parentId = 0x2222222222222222ull;
    return c;
}

std::unique_ptr<HostHttpClient> clientFor(const MockService& mock, const std::string& service) {
    ClientSettings s;
    s.name = service;
    s.url = mock.url();
    s.host = "127.0.0.1";
    s.port = mock.port();
    s.retries = 0;
    return std::make_unique<HostHttpClient>(s, Poco::Logger::get("berth.clients.test"));
}

/// What a task saw of the thread's request context.
struct Seen {
    std::string plugin, requestId, traceId, spanId, traceState;
    bool hasSpan = false;

    static Seen now() {
        const berth::server::LogContext& log = berth::server::currentLogContext();
        return {log.plugin != nullptr ? log.plugin : "",
                std::string(log.requestId),
                std::string(log.traceIdView()),
                std::string(log.spanIdView()),
                std::string(berth::server::currentTraceState()),
                berth::server::currentSpan() != nullptr};
    }
};

}  // namespace

class FanOutTraceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FanOutTraceTest);
    CPPUNIT_TEST(testTasksRunUnderTheRequestSpan);
    CPPUNIT_TEST(testExecutorThreadKeepsNothing);
    CPPUNIT_TEST(testLingeringTaskRunsUnderItsCopy);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        dir_ = std::make_unique<berth::test::TempDir>();
        berth::server::TraceSettings settings;
        settings.enabled = true;
        settings.file = dir_->file("spans.jsonl");
        settings.flushIntervalMs = 20;
        tracing_ = std::make_unique<berth::server::Tracing>(settings, Poco::Logger::get("test.tracing"));
    }
    void tearDown() override {
        tracing_.reset();
        dir_.reset();
    }

    /// Stops tracing (delivering what is queued) and reads the spans back.
    std::vector<Object::Ptr> reported() {
        tracing_->stop();
        return berth::test::parseLines(berth::test::readText(dir_->file("spans.jsonl")));
    }

    void testTasksRunUnderTheRequestSpan() {
        berth::test::InstalledFanOut installed;
        MockService hospitals, cities;
        hospitals.get("/hospitals/7", Json::object({{"id", 7}}));
        cities.get("/cities/3", Json::object({{"id", 3}}));
        std::unique_ptr<HostHttpClient> hospitalClient = clientFor(hospitals, "hospital-service");
        std::unique_ptr<HostHttpClient> cityClient = clientFor(cities, "city-service");
        HostHttpClient* h = hospitalClient.get();
        HostHttpClient* c = cityClient.get();

        const TraceContext request = requestSpan();
        Seen seen;
        {
            LogContextScope log("visits", "req-7");
            CurrentSpanScope current(&request);
            TraceStateScope state(kTraceState);
            auto [hospital, city, inTask] = gather(
                milliseconds(3000), [h] { return h->getJson("/hospitals/7"); },
                [c] { return c->getJson("/cities/3"); },
                [] {
                    Seen now = Seen::now();
                    SpanScope local("parallel part", SpanKind::Local);
                    return now;
                });
            CPPUNIT_ASSERT_EQUAL(std::int64_t(7), hospital["id"].asInt());
            CPPUNIT_ASSERT_EQUAL(std::int64_t(3), city["id"].asInt());
            seen = inTask;
        }
        // The task's log lines name the request, its trace and the request's span.
        CPPUNIT_ASSERT_EQUAL(std::string("visits"), seen.plugin);
        CPPUNIT_ASSERT_EQUAL(std::string("req-7"), seen.requestId);
        CPPUNIT_ASSERT_EQUAL(kTrace, seen.traceId);
        CPPUNIT_ASSERT_EQUAL(kRequestSpan, seen.spanId);
        CPPUNIT_ASSERT_EQUAL(kTraceState, seen.traceState);

        // What the services got: the request's trace, a client span of the request's span.
        std::map<std::string, std::string> clientSpanOf;
        for (MockService* mock : {&hospitals, &cities}) {
            MockCall call = mock->received().at(0);
            CPPUNIT_ASSERT_EQUAL(kTrace, call.header("X-B3-TraceId"));
            CPPUNIT_ASSERT_EQUAL(kRequestSpan, call.header("X-B3-ParentSpanId"));
            CPPUNIT_ASSERT_EQUAL(std::string("1"), call.header("X-B3-Sampled"));
            const std::string span = call.header("X-B3-SpanId");
            CPPUNIT_ASSERT(berth::test::isLowerHex(span, 16) && span != kRequestSpan);
            CPPUNIT_ASSERT_EQUAL("00-" + kTrace + "-" + span + "-01", call.header("traceparent"));
            CPPUNIT_ASSERT_EQUAL(kTraceState, call.header("tracestate"));
            CPPUNIT_ASSERT_EQUAL(std::string("req-7"), call.header("X-Request-Id"));
            clientSpanOf[span] = call.path;
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), clientSpanOf.size());

        // What was reported: two client spans and the local one, all children of the request's span.
        std::vector<Object::Ptr> spans = reported();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), spans.size());
        std::size_t clients = 0;
        for (const Object::Ptr& span : spans) {
            CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(span, false));
            CPPUNIT_ASSERT_EQUAL(kTrace, span->getValue<std::string>("traceId"));
            CPPUNIT_ASSERT_EQUAL(kRequestSpan, span->getValue<std::string>("parentId"));
            if (span->has("kind")) {
                CPPUNIT_ASSERT_EQUAL(std::string("CLIENT"), span->getValue<std::string>("kind"));
                CPPUNIT_ASSERT_MESSAGE("a client span no service got",
                                       clientSpanOf.count(span->getValue<std::string>("id")) == 1);
                ++clients;
            } else {
                CPPUNIT_ASSERT_EQUAL(std::string("parallel part"), span->getValue<std::string>("name"));
            }
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), clients);
    }

    // One executor thread, so that every task below runs on the thread the earlier ones used.
    void testExecutorThreadKeepsNothing() {
        berth::test::InstalledFanOut installed(1);
        MockService plain;
        plain.get("/after", Json::object({}));
        std::unique_ptr<HostHttpClient> client = clientFor(plain, "plain-service");
        HostHttpClient* p = client.get();
        const TraceContext request = requestSpan();
        {
            LogContextScope log("visits", "req-8");
            CurrentSpanScope current(&request);
            TraceStateScope state(kTraceState);
            auto [inTask] = gather(milliseconds(1000), [] { return Seen::now(); });
            CPPUNIT_ASSERT(inTask.hasSpan);
            try {
                gather(milliseconds(1000), [] {
                    SpanScope failing("failing part", SpanKind::Local);
                    throw std::runtime_error("task failed");
                });
                CPPUNIT_FAIL("gather must rethrow");
            } catch (const std::runtime_error&) {
            }
        }
        // Outside any request now: the thread that ran those tasks has no span, ids or tracestate,
        // and a call made there carries no tracing headers.
        auto [after] = gather(milliseconds(1000), [p] {
            p->getJson("/after");
            return Seen::now();
        });
        CPPUNIT_ASSERT(!after.hasSpan);
        CPPUNIT_ASSERT_EQUAL(std::string(), after.plugin + after.requestId + after.traceId + after.spanId);
        CPPUNIT_ASSERT_EQUAL(std::string(), after.traceState);
        MockCall call = plain.received().at(0);
        for (const char* name :
             {"X-B3-TraceId", "X-B3-Sampled", "b3", "traceparent", "tracestate", "X-Request-Id"})
            CPPUNIT_ASSERT_MESSAGE(name, call.header(name).empty());
    }

    // The caller gives up at its timeout and its request state is overwritten and freed; the task
    // still running calls a service afterwards, under the request's span all the same.
    void testLingeringTaskRunsUnderItsCopy() {
        berth::test::InstalledFanOut installed;
        MockService hospitals;
        hospitals.get("/hospitals/7", Json::object({{"id", 7}}));
        std::unique_ptr<HostHttpClient> client = clientFor(hospitals, "hospital-service");
        HostHttpClient* h = client.get();

        auto request = std::make_unique<TraceContext>(requestSpan());
        auto requestId = std::make_unique<std::string>("req-9");
        auto traceState = std::make_unique<std::string>(kTraceState);
        {
            LogContextScope log("visits", *requestId);
            CurrentSpanScope current(request.get());
            TraceStateScope state(*traceState);
            try {
                gather(milliseconds(100), [h] {
                    std::this_thread::sleep_for(milliseconds(400));
                    return h->getJson("/hospitals/7");
                });
                CPPUNIT_FAIL("gather must time out");
            } catch (const berth::ApiError& e) {
                CPPUNIT_ASSERT_EQUAL(504, e.httpStatus());
            }
        }
        *request = TraceContext{};  // what a reused, then freed, request would leave behind
        requestId->assign("overwritten");
        traceState->assign("other=1");
        request.reset();
        requestId.reset();
        traceState.reset();

        CPPUNIT_ASSERT(berth::test::eventually([&] { return installed.executor().stats().busy == 0; }));
        MockCall call = hospitals.received().at(0);
        CPPUNIT_ASSERT_EQUAL(kTrace, call.header("X-B3-TraceId"));
        CPPUNIT_ASSERT_EQUAL(kRequestSpan, call.header("X-B3-ParentSpanId"));
        CPPUNIT_ASSERT_EQUAL(kTraceState, call.header("tracestate"));
        CPPUNIT_ASSERT_EQUAL(std::string("req-9"), call.header("X-Request-Id"));
        std::vector<Object::Ptr> spans = reported();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), spans.size());
        CPPUNIT_ASSERT_EQUAL(kRequestSpan, spans[0]->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(call.header("X-B3-SpanId"), spans[0]->getValue<std::string>("id"));
    }

  private:
    std::unique_ptr<berth::test::TempDir> dir_;
    std::unique_ptr<berth::server::Tracing> tracing_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(FanOutTraceTest);
