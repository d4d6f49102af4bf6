#pragma once
// Keys whose invalidation (DEL, or a SET of the new value) did not reach Redis — down, slow, or no
// free client — while Redis may still hold the old value: it would be served until its TTL once
// Redis answers again. CacheModel treats such keys as misses and re-sends their DELs until one
// lands. Bounded: past `limit` keys, further ones are dropped (and counted).
//
// A write that lands forgets its key only if no other write of that key failed after it began:
// every add() gets a mark from one rising counter, a writer takes mark() before it sends, and
// delivered() keeps a key added after that mark (the failed write is newer than the one that landed).

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
    bool contains(const std::string& key) const;
    bool empty() const noexcept { return count_.load(std::memory_order_relaxed) == 0; }

    /// Taken before a write (DEL, SET) of a key is sent, for delivered() once it landed.
    std::uint64_t mark() const noexcept { return lastMark_.load(); }
    /// Every pending key with its mark, at most once per `every` (empty otherwise), for a retry.
    std::vector<std::pair<std::string, std::uint64_t>> due(std::chrono::milliseconds every);
    /// A write of `key` that began at `mark` (mark() before it was sent, or the key's mark from
    /// due()) reached Redis: forget the key, unless a failed write added it again after that.
    void delivered(const std::string& key, std::uint64_t mark);

  private:
    std::size_t limit_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::uint64_t> keys_;  // key → mark of its last add
    std::atomic<std::uint64_t> lastMark_{0};               // raised (under mutex_) by every add
    std::atomic<std::size_t> count_{0};
    std::chrono::steady_clock::time_point lastRetry_{};
};

}  // namespace berth::internal
