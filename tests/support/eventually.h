#pragma once
// Polling for a state the code under test reaches on its own time (a server back after a restart,
// a retry sent), instead of a fixed sleep that is too long on a quiet machine and too short on a
// busy one.

#include <chrono>
#include <thread>

namespace berth::test {

/// Calls `attempt` every 50 ms until it returns true, for at most `timeout`; true when it did.
template <class F>
bool eventually(F attempt, std::chrono::milliseconds timeout = std::chrono::milliseconds(6000)) {
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < timeout) {
        if (attempt()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace berth::test
