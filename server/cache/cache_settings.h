#pragma once
// The Redis cache of conf/berth.properties: redis.host, .port, .password, .db, .key_prefix,
// .pool_size, .pool_wait_ms, .connect_timeout_ms, .command_timeout_ms, .backoff_initial_ms,
// .backoff_max_ms.
// Read and checked here; the keys are documented in conf/berth.properties.

#include <string>
#include <vector>

namespace Poco::Util {
class AbstractConfiguration;
}

namespace berth::server {

struct CacheSettings {
    std::string host;  // empty: no Redis configured; ctx.cache() misses and skips everything
    int port = 6379;
    std::string password;  // empty: no AUTH
    int db = 0;            // SELECT, when not 0
    /// Put before every plugin's "<plugin>:" namespace: "<key_prefix><plugin>:<key>" (deployments
    /// sharing one Redis database; the test kit's fresh prefix per test). Empty by default.
    std::string keyPrefix;
    int poolSize = 16;
    int poolWaitMs = 200;
    int connectTimeoutMs = 500;
    int commandTimeoutMs = 500;
    int backoffInitialMs = 250;  // the breaker: no call tries Redis for this long after a failure,
    int backoffMaxMs = 2000;     // doubled per failed probe up to this
    /// Non-empty when Redis cannot be used as configured (a ${system.env.X} that is not defined):
    /// berthd still starts, warns, and the cache misses and skips.
    std::string unusable;

    bool configured() const { return !host.empty() && unusable.empty(); }
    std::string describe() const { return host + ":" + std::to_string(port) + "/" + std::to_string(db); }
};

/// Every redis.* key; problems and warnings are appended (warnings do not stop berthd).
CacheSettings loadCacheSettings(const Poco::Util::AbstractConfiguration& config,
                                std::vector<std::string>& problems, std::vector<std::string>& warnings);

/// The key names under redis. ("host", "port", …), for the documentation test.
std::vector<std::string> cacheKeyNames();

}  // namespace berth::server
