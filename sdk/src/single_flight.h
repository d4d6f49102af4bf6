#pragma once
// One caller per key at a time does the work (read the cache, maybe load and store); callers that
// arrive meanwhile wait for its result instead of repeating it, so a hot key that misses costs the
// database one load, not one per request. Behind CacheModel::getOrLoad.
//
// Every run notes the key's version before it reads anything; a write or invalidation of the key
// raises it (supersede), and a run stores its result only while the version is the one it noted. That
// holds for the leader of a flight and for a waiter that gave up waiting and works on its own alike.
// A key is tracked only while a run of it is under way, so the table never outgrows the calls in
// progress.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace berth::internal {

class SingleFlight {
    struct Key;  // a tracked key: its version, the flight waiters join, the runs under way

  public:
    using Result = std::shared_ptr<const void>;

    /// What one run noted when it began: which key, and the key's version then.
    class Ticket {
      public:
        /// Calls `store` unless the key was written or invalidated since the run began. Serialised
        /// with supersede(): a write waits for a store in progress, so it lands after it.
        void storeUnlessSuperseded(const std::function<void()>& store) const;

      private:
        friend class SingleFlight;
        Key* key_ = nullptr;
        std::uint64_t version_ = 0;
    };
    using Work = std::function<Result(const Ticket& ticket)>;

    SingleFlight();
    ~SingleFlight();
    SingleFlight(const SingleFlight&) = delete;
    SingleFlight& operator=(const SingleFlight&) = delete;

    /// Runs `work` unless a run for `key` is under way; then waits for that run's result (or its
    /// exception, rethrown) for at most `wait`, after which it runs `work` itself.
    Result run(const std::string& key, std::chrono::milliseconds wait, const Work& work);

    /// Called before a write or invalidation of `key`: runs under way keep their results for their
    /// own callers but will not store them, and later callers start a new run. Waits for a store in
    /// progress, so the caller's write lands after it. CacheModel calls it again once the write
    /// returned: a run that began while the write was on its way may have read the old value, and
    /// callers from then on must not join it.
    void supersede(const std::string& key);

    /// Keys with a run under way (for tests: it falls back to 0 when they are over).
    std::size_t trackedKeys() const;

  private:
    struct Flight;

    // One run of `key` is over (`led`: the flight it led, if any, which later callers no longer
    // join); the key leaves the table when no other run refers to it.
    void leave(const std::string& key, const std::shared_ptr<Key>& state, const Flight* led);

    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<Key>> keys_;
};

}  // namespace berth::internal
