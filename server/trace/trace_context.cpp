#include "trace_context.h"

#include <cmath>

namespace berth::server {

Sampler Sampler::forRate(double rate) noexcept {
    Sampler sampler;
    sampler.all = rate >= 1.0;
    if (!sampler.all && rate > 0.0) sampler.threshold = static_cast<std::uint64_t>(std::ldexp(rate, 64));
    return sampler;
}

}  // namespace berth::server
