#pragma once
// berth::Cache as the host implements it for one plugin: every key becomes "<plugin>:<key>", behind
// redis.key_prefix when one is set (the plugin cannot name a key outside its namespace, and only the
// commands of berth/cache.h exist),
// commands go through the shared RedisPool. Without a pool (redis.host not configured) every call
// is a miss or a skipped write.

#include <atomic>
#include <cstdint>
#include <string>

#include "berth/cache.h"

namespace Poco::Redis {
class Array;
}

namespace berth::server {

class RedisPool;

/// The Redis command for `command`, every key behind `namespacePrefix`.
Poco::Redis::Array redisCommand(const CacheCommand& command, const std::string& namespacePrefix);

class HostCache : public Cache {
  public:
    /// `pool` may be null: Redis not configured. `keyPrefix` is redis.key_prefix.
    HostCache(const std::string& keyPrefix, const std::string& plugin, RedisPool* pool);

    bool available() const override;
    bool configured() const override { return pool_ != nullptr; }
    std::vector<CacheResult> execute(const std::vector<CacheCommand>& commands) override;
    Poco::Logger& logger() const override { return logger_; }
    std::uint64_t corruptValues() const override { return corrupt_.load(std::memory_order_relaxed); }

    const std::string& namespacePrefix() const noexcept { return prefix_; }

  private:
    void countCorruptValue() override { corrupt_.fetch_add(1, std::memory_order_relaxed); }

    std::string prefix_;  // "<key_prefix><plugin>:"
    RedisPool* pool_;
    Poco::Logger& logger_;  // "berth.<plugin>", as ctx.logger()
    std::atomic<std::uint64_t> corrupt_{0};
};

}  // namespace berth::server
