#pragma once
// Elapsed time for the tests that assert on timing (parallel calls, timeouts).

#include <chrono>

namespace berth::test {

using Clock = std::chrono::steady_clock;

/// Whole milliseconds since `start`.
inline long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace berth::test
