// Trace context in and out: B3 (single `b3` and X-B3-*) and W3C traceparent parsed strictly (a
// malformed one is ignored, never refused), their precedence, and the headers written for a call;
// a traceparent caller's W3C tracestate checked and passed on unchanged.
#include <Poco/Net/NameValueCollection.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <string>
#include <vector>

#include "trace/propagation.h"
#include "trace/span_scope.h"
#include "trace/trace_state.h"

using berth::server::currentTraceState;
using berth::server::extractTrace;
using berth::server::IncomingTrace;
using berth::server::isValidTraceState;
using berth::server::parseB3Multi;
using berth::server::parseB3Single;
using berth::server::parseTraceparent;
using berth::server::passedTraceState;
using berth::server::propagationHeaders;
using berth::server::SamplingDecision;
using berth::server::TraceContext;
using berth::server::TraceFormat;
using berth::server::TraceHeaderViews;
using berth::server::TraceStateScope;

namespace {

const std::string kTrace128 = "463ac35c9f6413ad48485a3953bb6124";
const std::string kTrace64 = "48485a3953bb6124";
const std::string kSpan = "a2fb4a1d1a96d312";
const std::string kParent = "0020000000000001";

TraceHeaderViews headers(const std::map<std::string, std::string>& fields) {
    TraceHeaderViews views;
    for (const auto& [name, value] : fields) views.note(name, value);
    return views;
}

std::map<std::string, std::string> asMap(const berth::server::HeaderList& list) {
    std::map<std::string, std::string> map;
    for (const auto& [name, value] : list) map[name] = value;
    return map;
}

}  // namespace

class TracePropagationTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TracePropagationTest);
    CPPUNIT_TEST(testB3Single);
    CPPUNIT_TEST(testB3SingleDecisionOnly);
    CPPUNIT_TEST(testB3SingleMalformed);
    CPPUNIT_TEST(testB3Multi);
    CPPUNIT_TEST(testB3MultiMalformed);
    CPPUNIT_TEST(testTraceparent);
    CPPUNIT_TEST(testTraceparentMalformed);
    CPPUNIT_TEST(testPrecedenceAndFallback);
    CPPUNIT_TEST(testNoting);
    CPPUNIT_TEST(testOutgoing128);
    CPPUNIT_TEST(testOutgoing64DebugAndRoot);
    CPPUNIT_TEST(testOutgoingDecisionOnly);
    CPPUNIT_TEST(testRoundTrip);
    CPPUNIT_TEST(testFormatOfTheCaller);
    CPPUNIT_TEST(testTraceStateGrammar);
    CPPUNIT_TEST(testTraceStateOutgoing);
    CPPUNIT_TEST(testTraceStatePassedOnFromTraceparentOnly);
    CPPUNIT_TEST(testTraceStateOfSeveralFieldsAndBadLists);
    CPPUNIT_TEST(testTraceStateScopeAndInjection);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testB3Single() {
        IncomingTrace in;
        CPPUNIT_ASSERT(parseB3Single(kTrace128 + "-" + kSpan + "-1-" + kParent, in));
        CPPUNIT_ASSERT_EQUAL(0x463ac35c9f6413adull, static_cast<unsigned long long>(in.caller.traceHigh));
        CPPUNIT_ASSERT_EQUAL(0x48485a3953bb6124ull, static_cast<unsigned long long>(in.caller.traceLow));
        CPPUNIT_ASSERT_EQUAL(0xa2fb4a1d1a96d312ull, static_cast<unsigned long long>(in.caller.spanId));
        CPPUNIT_ASSERT_EQUAL(0x0020000000000001ull, static_cast<unsigned long long>(in.caller.parentId));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Accept);

        CPPUNIT_ASSERT(parseB3Single(kTrace64 + "-" + kSpan, in));  // 64-bit id, no decision
        CPPUNIT_ASSERT_EQUAL(0ull, static_cast<unsigned long long>(in.caller.traceHigh));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Defer);

        CPPUNIT_ASSERT(parseB3Single(kTrace64 + "-" + kSpan + "-0", in));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Deny);
        CPPUNIT_ASSERT(parseB3Single(kTrace64 + "-" + kSpan + "-d", in));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Accept && in.debug);
    }

    void testB3SingleDecisionOnly() {
        IncomingTrace in;
        CPPUNIT_ASSERT(parseB3Single("0", in));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Deny && !in.caller.hasTraceId());
        CPPUNIT_ASSERT(parseB3Single("1", in));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Accept);
        CPPUNIT_ASSERT(parseB3Single("d", in));
        CPPUNIT_ASSERT(in.debug);
    }

    void testB3SingleMalformed() {
        IncomingTrace in;
        for (const std::string& bad :
             {std::string("2"), std::string(""), kTrace64, kTrace64 + "-", kTrace64 + "-" + kSpan + "-",
              kTrace64 + "-" + kSpan + "-x", kTrace64 + "-" + kSpan + "-1-" + kParent + "-1",
              kTrace64.substr(1) + "-" + kSpan, std::string("463AC35C9F6413AD") + "-" + kSpan,
              std::string(16, '0') + "-" + kSpan, kTrace64 + "-" + std::string(16, '0'),
              kTrace64 + "-" + kSpan + "-1-" + std::string(16, '0'), kTrace64 + "-" + kSpan.substr(2),
              kTrace64 + "-" + kSpan + " ", " " + kTrace64 + "-" + kSpan, kTrace64 + "-g2fb4a1d1a96d312"})
            CPPUNIT_ASSERT_MESSAGE("'" + bad + "' was accepted", !parseB3Single(bad, in));
    }

    void testB3Multi() {
        IncomingTrace in;
        CPPUNIT_ASSERT(parseB3Multi(headers({{"X-B3-TraceId", kTrace128},
                                             {"X-B3-SpanId", kSpan},
                                             {"X-B3-ParentSpanId", kParent},
                                             {"X-B3-Sampled", "1"}}),
                                    in));
        CPPUNIT_ASSERT_EQUAL(0xa2fb4a1d1a96d312ull, static_cast<unsigned long long>(in.caller.spanId));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Accept);
        // The sampling state alone is a valid B3 message: "do not sample", without ids.
        CPPUNIT_ASSERT(parseB3Multi(headers({{"X-B3-Sampled", "0"}}), in));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Deny && !in.caller.hasTraceId());
        CPPUNIT_ASSERT(parseB3Multi(
            headers({{"x-b3-traceid", kTrace64}, {"x-b3-spanid", kSpan}, {"x-b3-flags", "1"}}), in));
        CPPUNIT_ASSERT(in.debug && in.decision == SamplingDecision::Accept);
        CPPUNIT_ASSERT(parseB3Multi(
            headers({{"X-B3-TraceId", kTrace64}, {"X-B3-SpanId", kSpan}, {"X-B3-Sampled", "true"}}), in));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Accept);
    }

    void testB3MultiMalformed() {
        IncomingTrace in;
        CPPUNIT_ASSERT(!parseB3Multi(headers({}), in));
        CPPUNIT_ASSERT(!parseB3Multi(headers({{"X-B3-TraceId", kTrace64}}), in));  // no span id
        CPPUNIT_ASSERT(!parseB3Multi(headers({{"X-B3-SpanId", kSpan}}), in));      // no trace id
        CPPUNIT_ASSERT(!parseB3Multi(
            headers({{"X-B3-TraceId", kTrace64}, {"X-B3-SpanId", kSpan}, {"X-B3-Sampled", "yes"}}), in));
        CPPUNIT_ASSERT(!parseB3Multi(
            headers({{"X-B3-TraceId", kTrace64}, {"X-B3-SpanId", kSpan}, {"X-B3-ParentSpanId", "12"}}), in));
        CPPUNIT_ASSERT(!parseB3Multi(
            headers({{"X-B3-TraceId", kTrace64}, {"X-B3-SpanId", kSpan}, {"X-B3-Flags", "2"}}), in));
        CPPUNIT_ASSERT(
            !parseB3Multi(headers({{"X-B3-TraceId", std::string(32, '0')}, {"X-B3-SpanId", kSpan}}), in));
    }

    void testTraceparent() {
        IncomingTrace in;
        CPPUNIT_ASSERT(parseTraceparent("00-" + kTrace128 + "-" + kSpan + "-01", in));
        CPPUNIT_ASSERT_EQUAL(0x463ac35c9f6413adull, static_cast<unsigned long long>(in.caller.traceHigh));
        CPPUNIT_ASSERT_EQUAL(0xa2fb4a1d1a96d312ull, static_cast<unsigned long long>(in.caller.spanId));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Accept);
        CPPUNIT_ASSERT(parseTraceparent("00-" + kTrace128 + "-" + kSpan + "-00", in));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Deny);
        // A later version may append fields after a dash; its sampled flag is still bit 0.
        CPPUNIT_ASSERT(parseTraceparent("01-" + kTrace128 + "-" + kSpan + "-03-something", in));
        CPPUNIT_ASSERT(in.decision == SamplingDecision::Accept);
    }

    void testTraceparentMalformed() {
        IncomingTrace in;
        const std::string ok = "00-" + kTrace128 + "-" + kSpan + "-01";
        for (const std::string& bad :
             {std::string("ff") + ok.substr(2), ok + "-extra", ok.substr(0, 54),
              "00-" + kTrace64 + "-" + kSpan + "-01", "00-" + std::string(32, '0') + "-" + kSpan + "-01",
              "00-" + kTrace128 + "-" + std::string(16, '0') + "-01",
              "00-463AC35C9F6413AD48485A3953BB6124-" + kSpan + "-01", "00_" + kTrace128 + "-" + kSpan + "-01",
              "0g-" + kTrace128 + "-" + kSpan + "-01", "00-" + kTrace128 + "-" + kSpan + "-0x",
              "01-" + kTrace128 + "-" + kSpan + "-01x"})
            CPPUNIT_ASSERT_MESSAGE("'" + bad + "' was accepted", !parseTraceparent(bad, in));
    }

    void testPrecedenceAndFallback() {
        const std::string other = "11111111111111112222222222222222";
        // b3 first, then X-B3-*, then traceparent.
        IncomingTrace in = extractTrace(headers({{"b3", kTrace128 + "-" + kSpan},
                                                 {"X-B3-TraceId", other},
                                                 {"X-B3-SpanId", kParent},
                                                 {"traceparent", "00-" + other + "-" + kParent + "-01"}}));
        CPPUNIT_ASSERT_EQUAL(0x463ac35c9f6413adull, static_cast<unsigned long long>(in.caller.traceHigh));
        in = extractTrace(headers({{"X-B3-TraceId", other},
                                   {"X-B3-SpanId", kParent},
                                   {"traceparent", "00-" + kTrace128 + "-" + kSpan + "-01"}}));
        CPPUNIT_ASSERT_EQUAL(0x1111111111111111ull, static_cast<unsigned long long>(in.caller.traceHigh));
        // A malformed one is skipped for the next.
        in = extractTrace(
            headers({{"b3", "garbage"}, {"traceparent", "00-" + kTrace128 + "-" + kSpan + "-01"}}));
        CPPUNIT_ASSERT_EQUAL(0x463ac35c9f6413adull, static_cast<unsigned long long>(in.caller.traceHigh));
        // None valid: a new trace, the rate decides.
        in = extractTrace(headers({{"b3", "garbage"}, {"traceparent", "nope"}}));
        CPPUNIT_ASSERT(!in.caller.hasTraceId() && in.decision == SamplingDecision::Defer);
        in = extractTrace(headers({{"X-Request-Id", "abc"}, {"Accept", "*/*"}}));
        CPPUNIT_ASSERT(!in.caller.hasTraceId() && in.decision == SamplingDecision::Defer);
    }

    void testNoting() {
        TraceHeaderViews views;
        views.note("Host", "x");
        views.note("User-Agent", "x");  // the same length as X-B3-Flags
        CPPUNIT_ASSERT(!views.any);
        views.note("TRACEPARENT", "first");
        views.note("traceparent", "second");  // the first of a name wins
        views.note("B3", "1");
        CPPUNIT_ASSERT(views.any);
        CPPUNIT_ASSERT_EQUAL(std::string("first"), std::string(views.traceparent));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), std::string(views.b3));
    }

    void testOutgoing128() {
        TraceContext c;
        c.traceHigh = 0x463ac35c9f6413adull;
        c.traceLow = 0x48485a3953bb6124ull;
        c.spanId = 0xa2fb4a1d1a96d312ull;
        c.parentId = 0x0020000000000001ull;
        c.sampled = true;
        auto h = asMap(propagationHeaders(c));
        CPPUNIT_ASSERT_EQUAL(kTrace128, h["X-B3-TraceId"]);
        CPPUNIT_ASSERT_EQUAL(kSpan, h["X-B3-SpanId"]);
        CPPUNIT_ASSERT_EQUAL(kParent, h["X-B3-ParentSpanId"]);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h["X-B3-Sampled"]);
        CPPUNIT_ASSERT_EQUAL(kTrace128 + "-" + kSpan + "-1-" + kParent, h["b3"]);
        CPPUNIT_ASSERT_EQUAL("00-" + kTrace128 + "-" + kSpan + "-01", h["traceparent"]);
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), h.size());
    }

    void testOutgoing64DebugAndRoot() {
        TraceContext c;
        c.traceLow = 0x48485a3953bb6124ull;
        c.spanId = 0xa2fb4a1d1a96d312ull;
        c.sampled = true;
        c.debug = true;
        auto h = asMap(propagationHeaders(c));
        CPPUNIT_ASSERT_EQUAL(kTrace64, h["X-B3-TraceId"]);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), h["X-B3-Flags"]);
        CPPUNIT_ASSERT(h.count("X-B3-Sampled") == 0 && h.count("X-B3-ParentSpanId") == 0);
        CPPUNIT_ASSERT_EQUAL(kTrace64 + "-" + kSpan + "-d", h["b3"]);
        // traceparent has room for 128 bits only: a 64-bit id is left-padded.
        CPPUNIT_ASSERT_EQUAL("00-" + std::string(16, '0') + kTrace64 + "-" + kSpan + "-01", h["traceparent"]);
    }

    void testOutgoingDecisionOnly() {
        TraceContext notSampled;  // no ids: only the decision goes on
        auto h = asMap(propagationHeaders(notSampled));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), h.size());
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h["X-B3-Sampled"]);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), h["b3"]);
    }

    void testRoundTrip() {
        TraceContext c;
        c.traceHigh = 0x0123456789abcdefull;
        c.traceLow = 0xfedcba9876543210ull;
        c.spanId = 0x1111111111111111ull;
        c.parentId = 0x2222222222222222ull;
        c.sampled = false;
        auto list = propagationHeaders(c);
        for (const char* only : {"b3", "X-B3-", "traceparent"}) {
            TraceHeaderViews views;
            for (const auto& [name, value] : list)
                if (name.rfind(only, 0) == 0) views.note(name, value);
            IncomingTrace in = extractTrace(views);
            CPPUNIT_ASSERT_MESSAGE(only,
                                   in.caller.traceHigh == c.traceHigh && in.caller.traceLow == c.traceLow);
            CPPUNIT_ASSERT_MESSAGE(only, in.caller.spanId == c.spanId);
            CPPUNIT_ASSERT_MESSAGE(only, in.decision == SamplingDecision::Deny);
        }
    }

    void testFormatOfTheCaller() {
        const std::string parent = "00-" + kTrace128 + "-" + kSpan + "-01";
        CPPUNIT_ASSERT(extractTrace(headers({{"b3", kTrace128 + "-" + kSpan}})).format == TraceFormat::B3);
        CPPUNIT_ASSERT(extractTrace(headers({{"X-B3-Sampled", "1"}})).format == TraceFormat::B3);
        CPPUNIT_ASSERT(extractTrace(headers({{"traceparent", parent}})).format == TraceFormat::Traceparent);
        // b3 wins over traceparent; a malformed b3 leaves it to traceparent.
        CPPUNIT_ASSERT(extractTrace(headers({{"b3", "1"}, {"traceparent", parent}})).format ==
                       TraceFormat::B3);
        CPPUNIT_ASSERT(extractTrace(headers({{"b3", "x"}, {"traceparent", parent}})).format ==
                       TraceFormat::Traceparent);
        CPPUNIT_ASSERT(extractTrace(headers({{"traceparent", "nope"}})).format == TraceFormat::None);
    }

    void testTraceStateGrammar() {
        std::string thirtyTwo, thirtyThree;
        for (int i = 0; i < 33; ++i) {
            std::string member = (i ? "," : "") + std::string("k") + std::to_string(i) + "=v";
            if (i < 32) thirtyTwo += member;
            thirtyThree += member;
        }
        for (const std::string& good :
             {std::string("congo=t61rcWkgMzE"), std::string("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
              std::string(" a=1 ,\tb=2\t"), std::string("a=1,,b=2, ,"), std::string(""), std::string(" , "),
              std::string("fw529a3039@dt=ZmxhZ3M"), std::string("0t@v=x"), std::string("a_-*/9=x"),
              std::string("k=va lue !~"), std::string("k=  lead"), "k=" + std::string(256, 'v'),
              std::string(256, 'k') + "=v", std::string(241, 't') + "@" + std::string(14, 's') + "=v",
              thirtyTwo})
            CPPUNIT_ASSERT_MESSAGE("'" + good + "' was refused", isValidTraceState(good));
        for (const std::string& bad : {thirtyThree,
                                       std::string("Congo=x"),
                                       std::string("congo"),
                                       std::string("congo="),
                                       std::string("a=1,a=2"),
                                       std::string("a@=1"),
                                       std::string("@v=1"),
                                       std::string("a@V=1"),
                                       std::string("a@1v=1"),
                                       std::string("_a@v=1"),
                                       std::string("1a=1"),
                                       std::string("a=x,y"),
                                       std::string("a=v=w"),
                                       std::string("a=v\x7f"),
                                       std::string("a=caf\xc3\xa9"),
                                       std::string("a=\tv"),
                                       "k=" + std::string(257, 'v'),
                                       std::string(257, 'k') + "=v",
                                       std::string(242, 't') + "@v=x",
                                       "t@" + std::string(15, 's') + "=v",
                                       std::string("a b=1")})
            CPPUNIT_ASSERT_MESSAGE("'" + bad + "' was accepted", !isValidTraceState(bad));
    }

    void testTraceStateOutgoing() {
        TraceContext c;
        c.traceHigh = 0x463ac35c9f6413adull;
        c.traceLow = 0x48485a3953bb6124ull;
        c.spanId = 0xa2fb4a1d1a96d312ull;
        c.sampled = false;  // not sampled: the ids go on with the decision, and the vendors' state too
        const std::string state = "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE";
        auto h = asMap(propagationHeaders(c, state));
        CPPUNIT_ASSERT_EQUAL(state, h["tracestate"]);
        CPPUNIT_ASSERT_EQUAL("00-" + kTrace128 + "-" + kSpan + "-00", h["traceparent"]);
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), h.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), asMap(propagationHeaders(c)).count("tracestate"));
        // No ids, no traceparent: a tracestate alone would mean nothing.
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), propagationHeaders(TraceContext{}, state).size());
    }

    void testTraceStatePassedOnFromTraceparentOnly() {
        const std::string parent = "00-" + kTrace128 + "-" + kSpan + "-01";
        const std::string state = "rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE";
        auto passed = [](const std::vector<std::pair<std::string, std::string>>& fields) {
            std::vector<berth::Header> list;
            TraceHeaderViews views;
            for (const auto& [name, value] : fields) {
                list.push_back({name, value});
                views.note(name, value);
            }
            return passedTraceState(views, list);
        };
        // Byte for byte, blanks included.
        CPPUNIT_ASSERT_EQUAL(state, passed({{"traceparent", parent}, {"tracestate", state}}));
        CPPUNIT_ASSERT_EQUAL(state, passed({{"TraceParent", parent}, {"TRACESTATE", state}}));
        // Not from traceparent: the context came from B3, or traceparent was malformed, or absent.
        CPPUNIT_ASSERT_EQUAL(
            std::string(),
            passed({{"b3", kTrace128 + "-" + kSpan}, {"traceparent", parent}, {"tracestate", state}}));
        CPPUNIT_ASSERT_EQUAL(
            std::string(),
            passed({{"traceparent", "00-" + kTrace128 + "-0000000000000000-01"}, {"tracestate", state}}));
        CPPUNIT_ASSERT_EQUAL(std::string(), passed({{"tracestate", state}}));
        CPPUNIT_ASSERT_EQUAL(std::string(), passed({{"traceparent", parent}}));
    }

    void testTraceStateOfSeveralFieldsAndBadLists() {
        const std::string parent = "00-" + kTrace128 + "-" + kSpan + "-01";
        auto passed = [&](std::vector<std::string> states) {
            std::vector<berth::Header> list{{"traceparent", parent}, {"Host", "x"}};
            for (const std::string& state : states) list.push_back({"tracestate", state});
            TraceHeaderViews views;
            views.note("traceparent", parent);
            return passedTraceState(views, list);
        };
        // Several fields are one list (RFC 7230 §3.2.2), in their order.
        CPPUNIT_ASSERT_EQUAL(std::string("rojo=1,congo=2,fw@dt=3"), passed({"rojo=1", "congo=2,fw@dt=3"}));
        // Malformed, or a key twice across fields: dropped whole (the trace goes on without it).
        CPPUNIT_ASSERT_EQUAL(std::string(), passed({"rojo=1", "Rojo=2"}));
        CPPUNIT_ASSERT_EQUAL(std::string(), passed({"rojo=1", "rojo=2"}));
        // Nothing but empty members: not worth sending.
        CPPUNIT_ASSERT_EQUAL(std::string(), passed({"", " , "}));
    }

    void testTraceStateScopeAndInjection() {
        TraceContext c;
        c.traceLow = 0x48485a3953bb6124ull;
        c.spanId = 0xa2fb4a1d1a96d312ull;
        c.sampled = true;
        Poco::Net::NameValueCollection request;
        request.set("tracestate", "stale=1");  // a plugin's own is replaced, as the other tracing headers
        CPPUNIT_ASSERT(currentTraceState().empty());
        {
            const std::string outer = "congo=t61rcWkgMzE";
            TraceStateScope scope(outer);
            {
                TraceStateScope inner("rojo=1");
                CPPUNIT_ASSERT_EQUAL(std::string("rojo=1"), std::string(currentTraceState()));
            }
            CPPUNIT_ASSERT_EQUAL(outer, std::string(currentTraceState()));
            berth::server::injectTraceHeaders(c, request);
            CPPUNIT_ASSERT_EQUAL(outer, request.get("tracestate"));
        }
        CPPUNIT_ASSERT(currentTraceState().empty());
        berth::server::injectTraceHeaders(c, request);  // no tracestate to pass on: none is sent
        CPPUNIT_ASSERT(!request.has("tracestate"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TracePropagationTest);
