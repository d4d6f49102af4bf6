#include "cache_settings.h"

#include <Poco/Util/AbstractConfiguration.h>
#include <algorithm>
#include <cctype>

#include "../app/service_settings_reader.h"

namespace berth::server {
namespace {

const std::vector<std::string> kKeys = {"host",
                                        "port",
                                        "password",
                                        "db",
                                        "key_prefix",
                                        "pool_size",
                                        "pool_wait_ms",
                                        "connect_timeout_ms",
                                        "command_timeout_ms",
                                        "backoff_initial_ms",
                                        "backoff_max_ms"};
constexpr std::size_t kMaxKeyPrefix = 128;

// No spaces, control or glob characters: `SCAN MATCH <prefix>*` (redis-cli --scan --pattern) then
// finds exactly the keys under the prefix.
bool validKeyPrefix(const std::string& prefix) {
    if (prefix.size() > kMaxKeyPrefix) return false;
    for (char c : prefix)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != ':' && c != '_' && c != '-' && c != '.')
            return false;
    return true;
}

}  // namespace

CacheSettings loadCacheSettings(const Poco::Util::AbstractConfiguration& config,
                                std::vector<std::string>& problems, std::vector<std::string>& warnings) {
    CacheSettings c;
    Poco::Util::AbstractConfiguration::Keys keys;
    config.keys("redis", keys);
    for (const std::string& key : keys)
        if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
            problems.push_back("redis." + key +
                               " is not a berthd setting (see the comments in conf/berth.properties)");
    ServiceSettingsReader read(config, "redis.", problems, c.unusable);
    c.host = read.text("host", "");
    c.port = read.integer("port", c.port, 1, 65535);
    c.password = read.text("password", "");
    c.db = read.integer("db", c.db, 0, 65535);
    c.keyPrefix = read.text("key_prefix", "");
    if (!validKeyPrefix(c.keyPrefix)) {
        problems.push_back("redis.key_prefix = '" + c.keyPrefix +
                           "': letters, digits and : _ - . only, at most " + std::to_string(kMaxKeyPrefix) +
                           " characters");
        c.keyPrefix.clear();
    }
    c.poolSize = read.integer("pool_size", c.poolSize, 1, 1000);
    c.poolWaitMs = read.integer("pool_wait_ms", c.poolWaitMs, 0, 60000);
    c.connectTimeoutMs = read.integer("connect_timeout_ms", c.connectTimeoutMs, 1, 60000);
    c.commandTimeoutMs = read.integer("command_timeout_ms", c.commandTimeoutMs, 1, 600000);
    c.backoffInitialMs = read.integer("backoff_initial_ms", c.backoffInitialMs, 1, 3600000);
    c.backoffMaxMs = read.integer("backoff_max_ms", c.backoffMaxMs, 1, 3600000);
    if (c.backoffMaxMs < c.backoffInitialMs)
        problems.push_back("redis.backoff_max_ms = " + std::to_string(c.backoffMaxMs) +
                           " is below redis.backoff_initial_ms = " + std::to_string(c.backoffInitialMs));
    if (!c.unusable.empty())
        warnings.push_back(
            "the Redis cache is not usable: " + c.unusable +
            "; berthd starts, and the plugins' cache calls miss (reads) or are skipped (writes)");
    return c;
}

std::vector<std::string> cacheKeyNames() {
    return kKeys;
}

}  // namespace berth::server
