#include "pending_invalidations.h"

namespace berth::internal {

bool PendingInvalidations::add(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = keys_.find(key);
    if (it == keys_.end()) {
        if (keys_.size() >= limit_) return false;
        it = keys_.emplace(key, 0).first;
    }
    it->second = lastMark_.fetch_add(1) + 1;
    count_.store(keys_.size(), std::memory_order_relaxed);
    return true;
}

bool PendingInvalidations::contains(const std::string& key) const {
    if (empty()) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_.count(key) > 0;
}

std::vector<std::pair<std::string, std::uint64_t>> PendingInvalidations::due(
    std::chrono::milliseconds every) {
    std::vector<std::pair<std::string, std::uint64_t>> keys;
    if (empty()) return keys;
    std::lock_guard<std::mutex> lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now - lastRetry_ < every) return keys;
    lastRetry_ = now;
    keys.assign(keys_.begin(), keys_.end());
    return keys;
}

void PendingInvalidations::delivered(const std::string& key, std::uint64_t mark) {
    if (empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = keys_.find(key);
    if (it != keys_.end() && it->second <= mark) keys_.erase(it);
    count_.store(keys_.size(), std::memory_order_relaxed);
}

}  // namespace berth::internal
