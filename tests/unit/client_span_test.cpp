// The host's API for spans of calls (trace/span_scope.h), which berth's downstream clients use: a
// client span as a child of the thread's current span, its B3 and traceparent headers written into
// a real Poco request to a real HTTP server on 127.0.0.1, and the span as reported; "not sampled"
// passed on; the context carried to another thread. Also the SDK's berth::Span and currentTrace()
// through the tracer berthd installs.
#include <Poco/Logger.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <cppunit/extensions/HelperMacros.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "berth/trace.h"
#include "loopback_server.h"
#include "test_helpers.h"
#include "trace/current_span.h"
#include "trace/span_scope.h"
#include "trace/tracing.h"
#include "trace_test_helpers.h"
#include "zipkin_schema.h"

using namespace berth::server;
using berth::test::describeProblems;
using berth::test::LoopbackServer;
using berth::test::parseLines;
using berth::test::TempDir;
using Poco::JSON::Object;

namespace {

const std::string kTrace = "463ac35c9f6413ad48485a3953bb6124";
const std::string kRequestSpan = "1111111111111111";

TraceContext requestContext(bool sampled) {
    TraceContext c = berth::test::sampledRequest();
    c.parentId = 0x2222222222222222ull;
    c.sampled = sampled;
    return c;
}

// GET `path` from the loopback server with `inject` adding headers; returns the status.
template <class Inject>
int call(LoopbackServer& server, const std::string& path, Inject inject) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(server.port()));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
    inject(request);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    return static_cast<int>(response.getStatus());
}

}  // namespace

class ClientSpanTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ClientSpanTest);
    CPPUNIT_TEST(testClientSpanOverRealHttp);
    CPPUNIT_TEST(testNotSampledIsPassedOn);
    CPPUNIT_TEST(testOutsideARequest);
    CPPUNIT_TEST(testCarriedToAnotherThread);
    CPPUNIT_TEST(testSdkSpans);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        dir_ = std::make_unique<TempDir>();
        TraceSettings settings;
        settings.enabled = true;
        settings.file = dir_->file("spans.jsonl");
        settings.flushIntervalMs = 20;
        tracing_ = std::make_unique<Tracing>(settings, Poco::Logger::get("test.tracing"));
    }
    void tearDown() override {
        tracing_.reset();
        dir_.reset();
    }

    std::vector<Object::Ptr> reported() {
        tracing_->stop();
        return parseLines(berth::test::readText(dir_->file("spans.jsonl")));
    }

    void testClientSpanOverRealHttp() {
        LoopbackServer downstream;
        downstream.setStatus(200);
        TraceContext request = requestContext(true);
        std::string clientSpan;
        {
            CurrentSpanScope current(&request);
            SpanScope span("GET /patients/<id>", SpanKind::Client, "patient-service");
            CPPUNIT_ASSERT(span.recording());
            span.tag("http.method", "GET").tag("http.path", "/patients/7");
            int status = call(downstream, "/patients/7", [&](Poco::Net::HTTPRequest& r) {
                r.set("X-B3-Sampled", "0");  // a stale header of the caller's is replaced
                span.injectHeaders(r);
            });
            span.tag("http.status_code", std::to_string(status));
            clientSpan = spanIdHex(span.propagationContext()->spanId);
            // While it runs, the client span is the thread's current span.
            CPPUNIT_ASSERT_EQUAL(spanIdHex(currentSpan()->spanId), clientSpan);
        }
        CPPUNIT_ASSERT(currentSpan() == nullptr);

        const LoopbackServer::Call got = downstream.received().at(0);
        CPPUNIT_ASSERT_EQUAL(kTrace, got.header("X-B3-TraceId"));
        CPPUNIT_ASSERT_EQUAL(clientSpan, got.header("X-B3-SpanId"));
        CPPUNIT_ASSERT_EQUAL(kRequestSpan, got.header("X-B3-ParentSpanId"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), got.header("X-B3-Sampled"));
        CPPUNIT_ASSERT_EQUAL(kTrace + "-" + clientSpan + "-1-" + kRequestSpan, got.header("b3"));
        CPPUNIT_ASSERT_EQUAL("00-" + kTrace + "-" + clientSpan + "-01", got.header("traceparent"));

        std::vector<Object::Ptr> spans = reported();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), spans.size());
        Object::Ptr span = spans[0];
        CPPUNIT_ASSERT_EQUAL(std::string(), describeProblems(span));
        CPPUNIT_ASSERT_EQUAL(std::string("CLIENT"), span->getValue<std::string>("kind"));
        CPPUNIT_ASSERT_EQUAL(kTrace, span->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(clientSpan, span->getValue<std::string>("id"));
        CPPUNIT_ASSERT_EQUAL(kRequestSpan, span->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("patient-service"),
                             span->getObject("remoteEndpoint")->getValue<std::string>("serviceName"));
        CPPUNIT_ASSERT_EQUAL(std::string("200"),
                             span->getObject("tags")->getValue<std::string>("http.status_code"));
    }

    void testNotSampledIsPassedOn() {
        LoopbackServer downstream;
        TraceContext request = requestContext(false);
        {
            CurrentSpanScope current(&request);
            SpanScope span("GET /x", SpanKind::Client, "x");
            CPPUNIT_ASSERT(!span.recording());
            call(downstream, "/ids", [&](Poco::Net::HTTPRequest& r) { span.injectHeaders(r); });
        }
        TraceContext noIds;  // not sampled, and the caller sent no ids
        {
            CurrentSpanScope current(&noIds);
            call(downstream, "/decision", [&](Poco::Net::HTTPRequest& r) { injectCurrentTraceHeaders(r); });
        }
        auto calls = downstream.received();
        CPPUNIT_ASSERT_EQUAL(kTrace, calls.at(0).header("X-B3-TraceId"));
        CPPUNIT_ASSERT_EQUAL(kRequestSpan, calls.at(0).header("X-B3-SpanId"));  // no span of its own
        CPPUNIT_ASSERT_EQUAL(std::string("0"), calls.at(0).header("X-B3-Sampled"));
        CPPUNIT_ASSERT_EQUAL("00-" + kTrace + "-" + kRequestSpan + "-00", calls.at(0).header("traceparent"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), calls.at(1).header("X-B3-Sampled"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), calls.at(1).header("b3"));
        CPPUNIT_ASSERT(!calls.at(1).has("X-B3-TraceId") && !calls.at(1).has("traceparent"));
        CPPUNIT_ASSERT(reported().empty());
    }

    void testOutsideARequest() {
        LoopbackServer downstream;
        call(downstream, "/", [&](Poco::Net::HTTPRequest& r) {
            injectCurrentTraceHeaders(r);
            SpanScope span("GET /", SpanKind::Client);  // no current span: a host span needs one
            CPPUNIT_ASSERT(!span.recording());
            span.injectHeaders(r);
        });
        auto got = downstream.received().at(0);
        for (const char* name : {"X-B3-TraceId", "X-B3-Sampled", "b3", "traceparent"})
            CPPUNIT_ASSERT_MESSAGE(name, !got.has(name));
        CPPUNIT_ASSERT(reported().empty());
    }

    void testCarriedToAnotherThread() {
        TraceContext request = requestContext(true);
        std::optional<TraceContext> carried;
        {
            CurrentSpanScope current(&request);
            carried = currentPropagationContext();
        }
        CPPUNIT_ASSERT(carried.has_value());
        std::thread task([&] {
            CurrentSpanScope there(&*carried);
            SpanScope child("parallel part", SpanKind::Local);
        });
        task.join();
        std::vector<Object::Ptr> spans = reported();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), spans.size());
        CPPUNIT_ASSERT_EQUAL(kRequestSpan, spans[0]->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string(), describeProblems(spans[0], false));
    }

    void testSdkSpans() {
        TraceContext request = requestContext(true);
        std::string sdkSpan;
        {
            CurrentSpanScope current(&request);
            berth::TraceIds now = berth::currentTrace();
            CPPUNIT_ASSERT_EQUAL(kTrace, now.traceId);
            CPPUNIT_ASSERT_EQUAL(kRequestSpan, now.spanId);
            berth::Span span("price lookup");
            CPPUNIT_ASSERT(span.recording());
            span.tag("hospital_id", "7").error("no price list");
            sdkSpan = span.ids().spanId;
            CPPUNIT_ASSERT_EQUAL(sdkSpan, berth::currentTrace().spanId);
            berth::TraceHeaders headers = span.outgoingHeaders();
            CPPUNIT_ASSERT(!headers.empty());
            bool parentIsRequest = false;
            for (const auto& [name, value] : headers)
                if (name == "X-B3-ParentSpanId") parentIsRequest = value == kRequestSpan;
            CPPUNIT_ASSERT(parentIsRequest);
        }
        // Outside a request an SDK span starts a trace of its own (sampled at the rate: 1 here).
        std::string rootTrace;
        {
            berth::Span timer("nightly cleanup");
            CPPUNIT_ASSERT(timer.recording());
            rootTrace = timer.ids().traceId;
            CPPUNIT_ASSERT_EQUAL(std::size_t(32), rootTrace.size());
        }
        CPPUNIT_ASSERT(berth::currentTrace().traceId.empty());
        std::vector<Object::Ptr> spans = reported();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), spans.size());
        CPPUNIT_ASSERT_EQUAL(sdkSpan, spans[0]->getValue<std::string>("id"));
        CPPUNIT_ASSERT_EQUAL(std::string("no price list"),
                             spans[0]->getObject("tags")->getValue<std::string>("error"));
        CPPUNIT_ASSERT_EQUAL(rootTrace, spans[1]->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT(!spans[1]->has("parentId"));
        // Tracing stopped: spans no longer record, and cost nothing.
        berth::Span after("after");
        CPPUNIT_ASSERT(!after.recording());
    }

  private:
    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<Tracing> tracing_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ClientSpanTest);
