// Sampler::forRate (trace/trace_context.h): a rate strictly between 0 and 1 samples that share of
// the trace id space — decided from the id alone, so every host decides alike — and the edges 0,
// 1, out of range and NaN. Deterministic: fixed ids on an even grid, never random ones.
#include <cppunit/extensions/HelperMacros.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "trace/request_tracer.h"
#include "trace/trace_context.h"

using berth::server::RequestTrace;
using berth::server::RequestTracer;
using berth::server::Sampler;
using berth::server::TraceHeaderViews;

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// How many of `n` ids spread evenly over the whole 64-bit space (the i-th in the i-th of n equal
// steps, at `offset` within it) the sampler takes.
std::uint64_t sampledOfGrid(const Sampler& sampler, std::uint64_t n, std::uint64_t offset) {
    const std::uint64_t step = kMax / n;  // n * step <= kMax: no id wraps around
    std::uint64_t taken = 0;
    for (std::uint64_t i = 0; i < n; ++i) taken += sampler.sample(i * step + offset % step);
    return taken;
}

}  // namespace

class SamplerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SamplerTest);
    CPPUNIT_TEST(testQuarterTakesTheLowQuarterOfTheIdSpace);
    CPPUNIT_TEST(testShareOverAnEvenGrid);
    CPPUNIT_TEST(testSameIdSameDecision);
    CPPUNIT_TEST(testEdges);
    CPPUNIT_TEST(testRequestTracerUsesTheRate);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testQuarterTakesTheLowQuarterOfTheIdSpace() {
        Sampler quarter = Sampler::forRate(0.25);
        CPPUNIT_ASSERT(!quarter.all);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1) << 62, quarter.threshold);
        CPPUNIT_ASSERT(quarter.sample(1));
        CPPUNIT_ASSERT(quarter.sample((std::uint64_t(1) << 62) - 1));
        CPPUNIT_ASSERT(!quarter.sample(std::uint64_t(1) << 62));
        CPPUNIT_ASSERT(!quarter.sample(kMax));
        // Ids as they come in headers: the low 64 bits of a trace id.
        CPPUNIT_ASSERT(quarter.sample(0x3fffffffffffffffull));
        CPPUNIT_ASSERT(!quarter.sample(0x48485a3953bb6124ull));
    }

    void testShareOverAnEvenGrid() {
        // 10 000 ids, one per 1/10 000 of the space: exactly the rate's share, wherever in its step
        // each id sits (±1 for the step the threshold falls in).
        for (double rate : {0.001, 0.1, 0.25, 0.5, 0.75, 0.999}) {
            Sampler sampler = Sampler::forRate(rate);
            const double expected = rate * 10000;
            for (std::uint64_t offset : {std::uint64_t(0), std::uint64_t(1) << 40, kMax}) {
                double taken = static_cast<double>(sampledOfGrid(sampler, 10000, offset));
                CPPUNIT_ASSERT_MESSAGE(std::to_string(rate) + ": " + std::to_string(taken),
                                       std::fabs(taken - expected) <= 1.0);
            }
        }
    }

    void testSameIdSameDecision() {
        // Two hosts (two samplers from the same rate) agree on every id: the decision is the id's.
        Sampler here = Sampler::forRate(0.3), there = Sampler::forRate(0.3);
        std::uint64_t id = 0x9e3779b97f4a7c15ull;
        for (int i = 0; i < 1000; ++i, id = id * 6364136223846793005ull + 1442695040888963407ull)
            CPPUNIT_ASSERT_EQUAL(here.sample(id), there.sample(id));
        // A higher rate takes every id a lower one takes.
        Sampler more = Sampler::forRate(0.6);
        for (int i = 0; i < 1000; ++i, id = id * 6364136223846793005ull + 1442695040888963407ull)
            if (here.sample(id)) CPPUNIT_ASSERT(more.sample(id));
    }

    void testEdges() {
        Sampler none = Sampler::forRate(0.0);
        CPPUNIT_ASSERT(!none.all);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), none.threshold);
        for (std::uint64_t id : {std::uint64_t(1), std::uint64_t(1) << 32, kMax})
            CPPUNIT_ASSERT(!none.sample(id));
        Sampler every = Sampler::forRate(1.0);
        CPPUNIT_ASSERT(every.all);
        for (std::uint64_t id : {std::uint64_t(1), std::uint64_t(1) << 63, kMax})
            CPPUNIT_ASSERT(every.sample(id));
        // Just below 1: all but the top sliver, and no overflow of the threshold.
        Sampler almost = Sampler::forRate(std::nextafter(1.0, 0.0));
        CPPUNIT_ASSERT(!almost.all);
        CPPUNIT_ASSERT(almost.sample(kMax - (std::uint64_t(1) << 12)));
        CPPUNIT_ASSERT(!almost.sample(kMax));
        // Just above 0: the bottom of the space only.
        Sampler tiny = Sampler::forRate(1e-12);
        CPPUNIT_ASSERT(tiny.sample(1));
        CPPUNIT_ASSERT(!tiny.sample(std::uint64_t(1) << 32));
        // What trace_settings refuses, were it ever passed: clamped, never undefined.
        CPPUNIT_ASSERT(Sampler::forRate(2.0).all);
        CPPUNIT_ASSERT(!Sampler::forRate(-0.5).sample(1));
        CPPUNIT_ASSERT(!Sampler::forRate(std::nan("")).sample(1));
    }

    void testRequestTracerUsesTheRate() {
        // A request without caller context whose generated id is the trace id: the low half decides.
        RequestTracer tracer(Sampler::forRate(0.25));
        const TraceHeaderViews none{};
        auto sampled = [&](std::uint64_t low) {
            const std::uint64_t bits[2] = {0x463ac35c9f6413adull, low};
            char hex[33];
            berth::server::writeHex(hex, bits[0]);
            berth::server::writeHex(hex + 16, bits[1]);
            RequestTrace trace;
            tracer.begin(none, std::string_view(hex, 32), bits, trace);
            CPPUNIT_ASSERT(trace.active);
            return trace.context.sampled;
        };
        CPPUNIT_ASSERT(sampled(0x0000000000000001ull));
        CPPUNIT_ASSERT(sampled(0x3fffffffffffffffull));
        CPPUNIT_ASSERT(!sampled(0x4000000000000000ull));
        CPPUNIT_ASSERT(!sampled(0xffffffffffffffffull));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SamplerTest);
