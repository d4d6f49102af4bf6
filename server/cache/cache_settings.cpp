#include "cache_settings.h"

#include <Poco/Util/AbstractConfiguration.h>
#include <algorithm>

#include "../app/service_settings_reader.h"

namespace berth::server {
namespace {

const std::vector<std::string> kKeys = {
    "host",      "port",         "password",           "db",
    "pool_size", "pool_wait_ms", "connect_timeout_ms", "command_timeout_ms"};

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
    c.poolSize = read.integer("pool_size", c.poolSize, 1, 1000);
    c.poolWaitMs = read.integer("pool_wait_ms", c.poolWaitMs, 0, 60000);
    c.connectTimeoutMs = read.integer("connect_timeout_ms", c.connectTimeoutMs, 1, 60000);
    c.commandTimeoutMs = read.integer("command_timeout_ms", c.commandTimeoutMs, 1, 600000);
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
