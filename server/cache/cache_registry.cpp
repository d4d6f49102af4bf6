#include "cache_registry.h"

#include <Poco/Logger.h>

#include <algorithm>

namespace berth::server {

CacheRegistry::CacheRegistry(const CacheSettings& settings, Poco::Logger& logger)
    : logger_(logger), keyPrefix_(settings.keyPrefix) {
    if (settings.configured())
        pool_ = std::make_unique<RedisPool>(settings, logger);
    else
        notConfigured_ = settings.unusable.empty() ? "redis.host is not set" : settings.unusable;
    unusable_ = settings.unusable;
}

CacheRegistry::~CacheRegistry() = default;

Cache& CacheRegistry::forPlugin(const std::string& plugin) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::unique_ptr<HostCache>& cache = caches_[plugin];
    if (!cache) cache = std::make_unique<HostCache>(keyPrefix_, plugin, pool_.get());
    return *cache;
}

void CacheRegistry::probe() {
    if (pool_)
        pool_->probe();
    else
        logger_.information("no Redis cache (%s): the plugins' cache calls miss and skip", notConfigured_);
}

std::vector<ReadinessCheck::Part> CacheRegistry::readinessParts(bool strict) const {
    if (pool_) return {{"redis", strict, true, [pool = pool_.get()](int) { return pool->ping(); }}};
    if (!unusable_.empty())
        return {{"redis", strict, false, [reason = "unusable: " + unusable_](int) { return reason; }}};
    return {};
}

CacheStats CacheRegistry::stats() const {
    return pool_ ? pool_->stats() : CacheStats{};
}

void CacheRegistry::renderMetrics(std::string& out) const {
    CacheStats s = stats();
    if (!s.configured) return;
    out += "# HELP berth_redis_up 1 when the Redis cache answers, 0 while calls are skipped.\n";
    out += "# TYPE berth_redis_up gauge\n";
    out += "berth_redis_up " + std::string(s.up ? "1" : "0") + "\n";
    out += "# HELP berth_redis_connections Redis clients of the pool by state, and its size.\n";
    out += "# TYPE berth_redis_connections gauge\n";
    out += "berth_redis_connections{state=\"in_use\"} " + std::to_string(s.inUse) + "\n";
    out += "berth_redis_connections{state=\"idle\"} " + std::to_string(std::max(0, s.open - s.inUse)) + "\n";
    out += "berth_redis_connections{state=\"max\"} " + std::to_string(s.poolSize) + "\n";
    auto counter = [&out](const char* name, const char* help, std::uint64_t value) {
        out += std::string("# HELP ") + name + " " + help + "\n";
        out += std::string("# TYPE ") + name + " counter\n";
        out += std::string(name) + " " + std::to_string(value) + "\n";
    };
    counter("berth_redis_connects_total", "Redis connections opened.", s.connects);
    counter("berth_redis_connect_failures_total", "Redis connections that failed to open.",
            s.connectFailures);
    counter("berth_redis_failures_total", "Redis commands that failed on I/O or timed out.", s.failures);
    counter("berth_redis_errors_total", "Redis commands refused by Redis (e.g. INCR of a non-integer).",
            s.errors);
    counter("berth_redis_skipped_total",
            "Cache calls answered without Redis (down, or no free client): reads missed, writes skipped.",
            s.skipped);
    std::lock_guard<std::mutex> lock(mutex_);
    if (caches_.empty()) return;
    out +=
        "# HELP berth_redis_corrupt_total Values under a CacheModel key that could not be read (not JSON, "
        "or the model's fromJson threw), by plugin; each was a miss.\n";
    out += "# TYPE berth_redis_corrupt_total counter\n";
    for (const auto& [plugin, cache] : caches_)
        out += "berth_redis_corrupt_total{plugin=\"" + plugin + "\"} " +
               std::to_string(cache->corruptValues()) + "\n";
}

Cache& CacheRegistry::disabled() {
    static HostCache none("", "", nullptr);
    return none;
}

}  // namespace berth::server
