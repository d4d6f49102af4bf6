#pragma once
// One pool of Poco::Redis clients, shared by every plugin's cache (HostCache). Poco::ObjectPool
// with a factory of ours — Poco's PoolableObjectFactory<Redis::Client> connects without a timeout,
// AUTH or SELECT, never validates, keeps handing out dead clients after a Redis restart and
// mishandles exhaustion (../shared/POCO-NOTES.md). Ours hands out unconnected clients, so that the
// connect (with connect_timeout_ms, AUTH, SELECT) happens outside ObjectPool's mutex, and
// validates isConnected() and a "broken" mark on return: a client that saw any I/O error or
// timeout is destroyed, never reused. The clients are ours too (RedisClient: Poco's has no send
// timeout).
//
// A circuit breaker keeps an outage cheap: after a failed connect or command, calls are answered
// at once without Redis for redis.backoff_initial_ms (250 ms), then one call at a time probes
// Redis; each failed probe doubles the wait, up to redis.backoff_max_ms (2 s); a success closes it.
// Calls that were already under way when the breaker opened and fail too belong to the same
// outage: they neither lengthen the wait nor end a probe. The first failure is a warning, then at
// most one every 10 s with the number of skipped calls.

#include <Poco/ObjectPool.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Type.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache_settings.h"
#include "redis_client.h"

namespace Poco {
class Logger;
}

namespace berth::server {

/// For /metrics (and /ready).
struct CacheStats {
    bool configured = false;
    bool up = false;  // false while the breaker is open
    std::string endpoint;
    int poolSize = 0;
    int open = 0;   // clients held by the pool (idle + in use)
    int inUse = 0;  // borrowed right now
    std::uint64_t connects = 0;
    std::uint64_t connectFailures = 0;
    std::uint64_t failures = 0;      // commands that failed on I/O or timed out (the client is dropped)
    std::uint64_t errors = 0;        // commands Redis refused (WRONGTYPE, not an integer, …)
    std::uint64_t skipped = 0;       // calls answered without Redis: down, or no client within pool_wait_ms
    std::uint64_t poolTimeouts = 0;  // of which: no free client within pool_wait_ms
};

struct RedisConnection {
    RedisClient client;
    std::uint64_t generation = 0;  // the pool's generation when it connected
    bool broken = false;           // saw an I/O error or a timeout: destroy on return
};

class RedisConnectionFactory {
  public:
    RedisConnection* createObject() { return new RedisConnection; }  // connected by RedisPool::run
    bool validateObject(RedisConnection* c) { return !c->broken && c->client.isConnected(); }
    void activateObject(RedisConnection*) {}
    void deactivateObject(RedisConnection*) {}
    void destroyObject(RedisConnection* c) { delete c; }
};

class RedisPool {
  public:
    using Replies = std::vector<Poco::Redis::RedisType::Ptr>;

    RedisPool(CacheSettings settings, Poco::Logger& logger);
    ~RedisPool();
    RedisPool(const RedisPool&) = delete;
    RedisPool& operator=(const RedisPool&) = delete;

    /// Sends `commands` on one client in one round trip and returns one reply per command (error
    /// replies included); std::nullopt, counted as skipped, when Redis is unavailable. Never
    /// throws. `retryable`: the commands may run twice (no INCR), so a reused client that turns out
    /// dead (Redis restarted while it was idle) is replaced and they are sent once more.
    std::optional<Replies> run(const std::vector<Poco::Redis::Array>& commands, bool retryable);

    /// False while the breaker is open.
    bool available() const noexcept { return !down_.load(std::memory_order_relaxed); }
    /// One PING at start, as ping() (not a cache call, so not counted as skipped); logs the outcome
    /// (a warning when Redis does not answer or refuses it).
    void probe();
    /// For /ready: one PING through the pool (and its breaker), never counted as a skipped call; ""
    /// when Redis answered, else why not (at once while the breaker is open).
    std::string ping();
    void countError() noexcept { errors_.fetch_add(1, std::memory_order_relaxed); }
    CacheStats stats() const;
    const CacheSettings& settings() const noexcept { return settings_; }

  private:
    using Clock = std::chrono::steady_clock;

    // Whether a call may try Redis: always while the breaker is closed; while it is open, one call
    // (the probe) once the wait is over.
    enum class Admission { Refused, Closed, Probe };

    void connect(RedisConnection& c);
    Admission admit();
    // run() once admitted. `countSkips`: a call answered without Redis counts as skipped (false for
    // ping(), which is not a cache call). `probe`: this call is the breaker's probe.
    std::optional<Replies> send(const std::vector<Poco::Redis::Array>& commands, bool retryable,
                                bool countSkips, bool probe);
    void markUp();
    void markDown(const std::string& reason, bool probe);
    // A probe that ended without telling whether Redis is up (no free client; an idle client had
    // died): the next call may probe.
    void endProbe(bool probe);
    void release(RedisConnection* c);
    std::optional<Replies> skip();

    CacheSettings settings_;
    Poco::Logger& logger_;
    Poco::ObjectPool<RedisConnection, RedisConnection*, RedisConnectionFactory> pool_;
    std::atomic<std::uint64_t> generation_{1};
    std::atomic<int> inUse_{0};
    std::atomic<std::uint64_t> connects_{0}, connectFailures_{0}, failures_{0}, errors_{0}, skipped_{0},
        poolTimeouts_{0};

    // The breaker.
    std::atomic<bool> down_{false};
    std::mutex stateMutex_;
    bool probing_ = false;
    Clock::time_point downUntil_{};
    int backoffMs_ = 0;
    Clock::time_point lastWarning_{};
    std::string lastFailure_;  // why the breaker opened last
    std::uint64_t skippedAtWarning_ = 0;
};

}  // namespace berth::server
