#pragma once
/// berth/cache.h — the Redis cache of conf/berth.properties (`redis.*`), one pool shared by all
/// plugins. A plugin gets its cache with `ctx.cache()` (berth/context.h); every key is stored as
/// `<plugin name>:<key>`, so two plugins never see each other's keys.
///
///     void configure(berth::Context& ctx) override { cache_ = &ctx.cache(); }
///
///     berth::Reply show(const berth::Request& req) {
///         std::string key = "user:" + req.param("id");
///         if (std::optional<std::string> hit = cache_->get(key)) return berth::Json::parse(*hit);
///         berth::Json user = loadUser(req);                      // the slow way
///         cache_->set(key, user.dump(), std::chrono::minutes(5));
///         return user;
///     }
///
///     berth::CachePipeline batch = cache_->pipeline();         // one round trip
///     batch.incr("hits").expire("hits", std::chrono::hours(1)).get("motd");
///     std::vector<berth::CacheResult> r = batch.execute();      // r[0].integer, r[2].value
///
///     std::vector<std::optional<std::string>> users = cache_->mget({"user:1", "user:2"});  // one MGET
///
/// Failure contract: Redis being down, slow or misconfigured never throws into plugin code.
/// Reads answer "miss" (std::nullopt, false, empty), writes are skipped and return false, and the
/// host counts it and logs a rate-limited warning; once Redis answers again caching resumes by
/// itself. While Redis is known to be down the host does not even try (no connect timeout per
/// call), and `available()` is false. Only a programming error throws: std::invalid_argument for
/// an empty key or field, a key with control characters, a negative TTL, or a pipeline MGET without keys.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Poco {
class Logger;
}

namespace berth {
inline namespace v1 {

namespace detail {
class CacheModelCore;
}

/// One command of a batch (what CachePipeline collects and Cache::execute() runs).
struct CacheCommand {
    enum class Op { Get, Set, Del, Exists, Expire, Incr, HGet, HSet, HDel, HGetAll, MGet };
    Op op = Op::Get;
    std::string key;                ///< without the plugin's namespace: the host adds it (not MGet)
    std::string field;              ///< HGet, HSet, HDel
    std::string value;              ///< Set, HSet
    std::int64_t number = 0;        ///< Set/Expire: TTL in seconds (Set: 0 = none); Incr: the increment
    std::vector<std::string> keys;  ///< MGet: at least one, each without the namespace (the host adds it)
};

/// What one command of a batch answered.
struct CacheResult {
    /// The command ran. False: Redis unavailable (the write was skipped, the read is a miss), or
    /// Redis refused it (e.g. INCR on a value that is not an integer).
    bool ok = false;
    /// Get/HGet: the value; std::nullopt for a miss.
    std::optional<std::string> value;
    /// Del/Exists/Expire/HSet/HDel: Redis' count (keys removed, 1 when present/set, new fields);
    /// Incr: the new value.
    std::int64_t integer = 0;
    /// HGetAll: every field of the hash.
    std::map<std::string, std::string> fields;
    /// MGet: one per key, in order; std::nullopt for a miss (or a key that holds another Redis type).
    std::vector<std::optional<std::string>> values;
};

class Cache;

/// Collects commands and runs them in one round trip (Redis pipelining). Not thread-safe; cheap
/// to make: take one per use with `cache.pipeline()`.
class CachePipeline {
  public:
    explicit CachePipeline(Cache& cache) : cache_(&cache) {}

    CachePipeline& get(std::string_view key);
    CachePipeline& set(std::string_view key, std::string_view value,
                       std::chrono::seconds ttl = std::chrono::seconds(0));
    CachePipeline& del(std::string_view key);
    CachePipeline& exists(std::string_view key);
    CachePipeline& expire(std::string_view key, std::chrono::seconds ttl);
    CachePipeline& incr(std::string_view key, std::int64_t by = 1);
    CachePipeline& hget(std::string_view key, std::string_view field);
    CachePipeline& hset(std::string_view key, std::string_view field, std::string_view value);
    CachePipeline& hdel(std::string_view key, std::string_view field);
    CachePipeline& hgetall(std::string_view key);
    CachePipeline& mget(const std::vector<std::string>& keys);

    std::size_t size() const noexcept { return commands_.size(); }
    /// Runs every collected command in one round trip and forgets them; one result per command,
    /// in order. When Redis is unavailable every result has ok == false.
    std::vector<CacheResult> execute();

  private:
    Cache* cache_;
    std::vector<CacheCommand> commands_;
};

/// A plugin's view of the shared Redis (keys namespaced `<plugin>:` by the host). Thread-safe:
/// handlers on several workers may use one Cache at once. Valid until the plugin is destroyed.
class Cache {
  public:
    virtual ~Cache();

    /// False while Redis is not configured or known to be down: calls are then answered at once
    /// without Redis (misses, skipped writes).
    virtual bool available() const = 0;

    /// Runs `commands` in one round trip; one result per command (see CacheResult). Never throws
    /// because of Redis; throws std::invalid_argument for an invalid key, field or TTL (then
    /// nothing is sent).
    virtual std::vector<CacheResult> execute(const std::vector<CacheCommand>& commands) = 0;

    // The single commands, each one round trip (none when Redis is known to be down).

    /// The value, or std::nullopt for a miss (or Redis unavailable).
    std::optional<std::string> get(std::string_view key);
    /// SET, with a TTL when ttl > 0. False when skipped.
    bool set(std::string_view key, std::string_view value,
             std::chrono::seconds ttl = std::chrono::seconds(0));
    /// DEL. True when Redis ran it (the key is gone, whether it existed or not); false when skipped.
    bool del(std::string_view key);
    /// EXISTS. False for a missing key or when Redis is unavailable.
    bool exists(std::string_view key);
    /// EXPIRE. True when the TTL was set; false for a missing key or when skipped.
    bool expire(std::string_view key, std::chrono::seconds ttl);
    /// INCRBY (a missing key counts from 0). The new value; std::nullopt when skipped or when the
    /// stored value is not an integer.
    std::optional<std::int64_t> incr(std::string_view key, std::int64_t by = 1);
    /// HGET: the field's value, or std::nullopt for a miss.
    std::optional<std::string> hget(std::string_view key, std::string_view field);
    /// HSET of one field. True when Redis stored it; false when skipped.
    bool hset(std::string_view key, std::string_view field, std::string_view value);
    /// HDEL of one field. True when Redis ran it; false when skipped.
    bool hdel(std::string_view key, std::string_view field);
    /// HGETALL: every field; empty for a missing key or when Redis is unavailable.
    std::map<std::string, std::string> hgetall(std::string_view key);
    /// MGET: one value per key, in order, in one command; std::nullopt for a miss, a key holding
    /// another Redis type, or Redis unavailable (then all). No keys: no command, an empty answer.
    std::vector<std::optional<std::string>> mget(const std::vector<std::string>& keys);

    /// A batch of commands for one round trip.
    CachePipeline pipeline() { return CachePipeline(*this); }

    /// The plugin's logger ("berth.<plugin>"), where what is built on the cache (CacheModel) warns.
    /// (Appended: the host implements Cache; plugins only call it.)
    virtual Poco::Logger& logger() const = 0;

    /// Values under CacheModel keys (berth/cache_model.h) that could not be read — not JSON, refused
    /// by the model's fromJson, or another id's value — since start; each was a miss. /metrics:
    /// berth_redis_corrupt_total. (Appended, as logger().)
    virtual std::uint64_t corruptValues() const = 0;

  private:
    /// Counts one such value. Only CacheModel counts (the host keeps the counter), so a plugin
    /// cannot move a host metric.
    friend class detail::CacheModelCore;
    virtual void countCorruptValue() = 0;

  public:
    /// False when berthd has no Redis at all (redis.host not set, or unusable): no call will ever
    /// reach one. True when Redis is configured, whether or not it answers now (see available()).
    /// (Appended, as logger().)
    virtual bool configured() const = 0;

  private:
    CacheResult one(CacheCommand command);
};

}  // namespace v1
}  // namespace berth
