// The thread's current span and the log context (observe/log_context.h): the request's ids while
// its handler runs, a child span's while it runs, the parent's again after it, none after the
// request; a request not sampled leaves the log context alone.
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "observe/log_context.h"
#include "trace/current_span.h"
#include "trace/span_queue.h"
#include "trace/span_scope.h"
#include "trace_test_helpers.h"

using namespace berth::server;

namespace {

std::string loggedTrace() {
    return std::string(currentLogContext().traceIdView());
}
std::string loggedSpan() {
    return std::string(currentLogContext().spanIdView());
}

}  // namespace

class CurrentSpanTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CurrentSpanTest);
    CPPUNIT_TEST(testLogContextFollowsTheCurrentSpan);
    CPPUNIT_TEST(testNotSampledLeavesLogContextAlone);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testLogContextFollowsTheCurrentSpan() {
        SpanQueue queue(10);
        installSpanSink(&queue, Sampler::forRate(1.0));
        TraceContext request = berth::test::sampledRequest();
        {
            LogContextScope log("hello", "req-1");
            CurrentSpanScope current(&request);
            CPPUNIT_ASSERT(currentSpan() == &request);
            CPPUNIT_ASSERT_EQUAL(std::string("463ac35c9f6413ad48485a3953bb6124"), loggedTrace());
            CPPUNIT_ASSERT_EQUAL(std::string("1111111111111111"), loggedSpan());
            {
                SpanScope child("query", SpanKind::Client, "postgresql");
                CPPUNIT_ASSERT(currentSpan() != &request);
                CPPUNIT_ASSERT_EQUAL(std::string("463ac35c9f6413ad48485a3953bb6124"), loggedTrace());
                CPPUNIT_ASSERT_EQUAL(spanIdHex(currentSpan()->spanId), loggedSpan());
                CPPUNIT_ASSERT(loggedSpan() != "1111111111111111");
            }
            CPPUNIT_ASSERT(currentSpan() == &request);
            CPPUNIT_ASSERT_EQUAL(std::string("1111111111111111"), loggedSpan());
        }
        CPPUNIT_ASSERT(currentSpan() == nullptr);
        CPPUNIT_ASSERT(loggedTrace().empty() && loggedSpan().empty());
        installSpanSink(nullptr, Sampler{});
    }

    void testNotSampledLeavesLogContextAlone() {
        TraceContext notSampled;  // no ids: the caller sent none and the rate said no
        LogContextScope log("hello", "req-2");
        CurrentSpanScope current(&notSampled);
        CPPUNIT_ASSERT(currentSpan() == &notSampled);
        CPPUNIT_ASSERT(loggedTrace().empty());
        TraceContext withIds = berth::test::sampledRequest();
        withIds.sampled = false;  // not sampled, but the caller's ids are passed on and logged
        {
            CurrentSpanScope inner(&withIds);
            CPPUNIT_ASSERT_EQUAL(std::string("463ac35c9f6413ad48485a3953bb6124"), loggedTrace());
        }
        CPPUNIT_ASSERT(loggedTrace().empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CurrentSpanTest);
