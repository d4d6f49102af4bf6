#pragma once
// The identity of one span within a trace, as B3 (Zipkin) and W3C trace context carry it: ids as
// integers, so that making, copying and queueing one costs a few stores (hex only when written).

#include <cstdint>

#include "../http/request_id.h"

namespace berth::server {

struct TraceContext {
    std::uint64_t traceHigh = 0;  ///< upper half of a 128-bit trace id; 0 for a 64-bit one
    std::uint64_t traceLow = 0;   ///< 0 (with traceHigh 0): no trace id yet
    std::uint64_t spanId = 0;
    std::uint64_t parentId = 0;  ///< 0: a root span
    bool sampled = false;        ///< recorded and reported
    bool debug = false;          ///< B3 debug ("d", X-B3-Flags: 1): sampled whatever the rate

    bool hasTraceId() const noexcept { return (traceHigh | traceLow) != 0; }
};

/// A random, non-zero 64-bit id from the thread's splitmix64 stream (http/request_id.h).
inline std::uint64_t newTraceId64() noexcept {
    std::uint64_t id;
    do id = randomU64();
    while (id == 0);  // zero means "none" in B3 and W3C alike
    return id;
}

/// Whether a new trace is recorded at a sample rate, decided from its random low id so that
/// every host deciding on the same id decides alike. The rate is a share of the 64-bit id space
/// (2^64 itself does not fit: `all` stands for a rate of 1).
struct Sampler {
    std::uint64_t threshold = 0;
    bool all = false;

    static Sampler forRate(double rate) noexcept;
    bool sample(std::uint64_t traceLow) const noexcept { return all || traceLow < threshold; }
};

}  // namespace berth::server
