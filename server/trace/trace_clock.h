#pragma once
// Span times: records carry the monotonic clock the I/O loops already read for each request (a
// request's first byte, http/connection.cpp), and the reporter turns them into Zipkin's epoch
// microseconds with one offset per batch, so that a server span and its children line up.

#include <cstdint>
#include <ctime>

namespace berth::server {

/// CLOCK_MONOTONIC in microseconds (the clock of Connection's request start).
inline std::int64_t steadyMicros() noexcept {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

/// A span's duration as its records carry it (u32 µs): a span longer than ~71.6 minutes saturates
/// there rather than wrapping into a short one.
inline std::uint32_t spanDurationUs(std::int64_t elapsedUs) noexcept {
    if (elapsedUs <= 0) return 0;
    return elapsedUs >= static_cast<std::int64_t>(UINT32_MAX) ? UINT32_MAX
                                                              : static_cast<std::uint32_t>(elapsedUs);
}

/// Epoch microseconds minus steadyMicros(), now.
inline std::int64_t steadyToEpochOffsetUs() noexcept {
    timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    std::int64_t epochUs = static_cast<std::int64_t>(wall.tv_sec) * 1000000 + wall.tv_nsec / 1000;
    return epochUs - steadyMicros();
}

}  // namespace berth::server
