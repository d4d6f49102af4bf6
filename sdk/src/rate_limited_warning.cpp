#include "rate_limited_warning.h"

#include <Poco/Logger.h>

namespace berth::internal {

void RateLimitedWarning::occurred(Poco::Logger& logger, const std::string& message, std::uint64_t total) {
    auto now = std::chrono::steady_clock::now();
    std::string line;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (logged_ && now - last_ < period_) return;
        line = message;
        if (logged_) {
            auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - last_).count();
            line += " (" + std::to_string(total - totalAtLast_) + " in the last " + std::to_string(seconds) +
                    " s, " + std::to_string(total) + " in all)";
        }
        logged_ = true;
        last_ = now;
        totalAtLast_ = total;
    }
    logger.warning(line);
}

}  // namespace berth::internal
