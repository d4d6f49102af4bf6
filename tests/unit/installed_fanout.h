#pragma once
// A FanOutExecutor installed behind berth::gather for a test's lifetime (the fan-out suites).

#include <Poco/Logger.h>

#include <chrono>

#include "berth/fanout.h"
#include "fanout/fanout_executor.h"

namespace berth::test {

class InstalledFanOut {
  public:
    explicit InstalledFanOut(int threads = 8, int maxQueued = 64)
        : executor_(server::FanOutSettings{threads, maxQueued}, Poco::Logger::get("berth.fanout.test")) {
        berth::setFanOutRunner(&executor_);
    }
    /// Waits (up to 5 s) for lingering tasks.
    ~InstalledFanOut() {
        berth::setFanOutRunner(nullptr);
        executor_.stopBy(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    }
    InstalledFanOut(const InstalledFanOut&) = delete;
    InstalledFanOut& operator=(const InstalledFanOut&) = delete;

    server::FanOutExecutor& executor() { return executor_; }

  private:
    server::FanOutExecutor executor_;
};

}  // namespace berth::test
