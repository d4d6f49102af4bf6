#pragma once
// Keys whose invalidation (DEL, or a SET of the new value) did not reach Redis — down, slow, or no
// free client — while Redis may still hold the old value: it would be served until its TTL once
// Redis answers again. CacheModel treats such keys as misses and re-sends their DELs until one
// lands. Bounded: past `limit` keys, further ones are dropped (and counted).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace berth::internal {

class PendingInvalidations {
  public:
    explicit PendingInvalidations(std::size_t limit) : limit_(limit) {}

    /// Remembers `key`; false when it had to be dropped because `limit` keys are pending.
    bool add(const std::string& key);
    /// The key's current value is known to be right (a DEL or SET of it reached Redis).
    void remove(const std::string& key);
    bool contains(const std::string& key) const;
    bool empty() const noexcept { return count_.load(std::memory_order_relaxed) == 0; }

    /// Every pending key with its mark, at most once per `every` (empty otherwise), for a retry.
    std::vector<std::pair<std::string, std::uint64_t>> due(std::chrono::milliseconds every);
    /// The retry's DEL of `key` landed: forget it unless it was added again since due().
    void delivered(const std::string& key, std::uint64_t mark);

  private:
    std::size_t limit_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::uint64_t> keys_;  // key → mark of its last add
    std::uint64_t nextMark_ = 0;
    std::atomic<std::size_t> count_{0};
    std::chrono::steady_clock::time_point lastRetry_{};
};

}  // namespace berth::internal
