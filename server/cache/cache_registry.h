#pragma once
// The Redis cache of conf/berth.properties, made once at start and shared by all plugins: one
// RedisPool (none when redis.host is not configured) and one HostCache per plugin
// (Context::cache()). Statistics for /metrics, a ping for /ready.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "../observe/readiness_check.h"
#include "cache_settings.h"
#include "host_cache.h"
#include "redis_pool.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class CacheRegistry {
  public:
    CacheRegistry(const CacheSettings& settings, Poco::Logger& logger);
    ~CacheRegistry();
    CacheRegistry(const CacheRegistry&) = delete;
    CacheRegistry& operator=(const CacheRegistry&) = delete;

    /// The plugin's cache, keys namespaced "<key_prefix><plugin>:"; made on first use, valid as long
    /// as the registry. Thread-safe.
    Cache& forPlugin(const std::string& plugin);
    bool configured() const noexcept { return pool_ != nullptr; }

    /// One PING at start, logging the outcome; an info line when Redis is not configured.
    void probe();
    CacheStats stats() const;
    /// Prometheus text: berth_redis_up, berth_redis_connections{state}, and the counters.
    void renderMetrics(std::string& out) const;
    /// For /ready: "redis" (PING through the pool), required only when `strict` — Redis down means
    /// slower requests, not failed ones. None when redis.host is not set.
    std::vector<ReadinessCheck::Part> readinessParts(bool strict) const;

    /// A cache without Redis (every read misses, every write is skipped), for contexts made without
    /// a registry (tests, `berthd migrate`).
    static Cache& disabled();

  private:
    Poco::Logger& logger_;
    std::string notConfigured_;  // why there is no pool, for the start log
    std::string unusable_;       // redis.* set but unusable (an undefined ${...}): /ready says so
    std::string keyPrefix_;      // redis.key_prefix
    std::unique_ptr<RedisPool> pool_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<HostCache>> caches_;
};

}  // namespace berth::server
