#pragma once
// One kind of warning, logged at most once per period with how many occurrences it stands for: a
// flood of the same problem must not flood the log, nor hide that it goes on.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace Poco {
class Logger;
}

namespace berth::internal {

class RateLimitedWarning {
  public:
    explicit RateLimitedWarning(std::chrono::seconds period) : period_(period) {}

    /// Counts one occurrence; logs `message` (plus the count since the last line) when the period
    /// since the last line is over. `total`: occurrences so far, this one included.
    void occurred(Poco::Logger& logger, const std::string& message, std::uint64_t total);

  private:
    std::chrono::seconds period_;
    std::mutex mutex_;
    bool logged_ = false;
    std::chrono::steady_clock::time_point last_{};
    std::uint64_t totalAtLast_ = 0;
};

}  // namespace berth::internal
