#include "cache_settings.h"

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <algorithm>
#include <cstdint>

#include "strict_number.h"

namespace berth::server {
namespace {

const std::vector<std::string> kKeys = {
    "host",      "port",         "password",           "db",
    "pool_size", "pool_wait_ms", "connect_timeout_ms", "command_timeout_ms"};

// Like the db.<name>.* reader: an undefined ${...} makes the cache unusable (a warning) rather
// than a problem, so that berthd starts without Redis settings.
class Reader {
  public:
    Reader(const Poco::Util::AbstractConfiguration& config, CacheSettings& cache,
           std::vector<std::string>& problems)
        : config_(config), cache_(cache), problems_(problems) {}

    std::string text(const std::string& key, const std::string& fallback) {
        std::string full = "redis." + key;
        if (!config_.hasProperty(full)) return fallback;
        std::string value;
        try {
            value = Poco::trim(config_.getString(full));
        } catch (const Poco::Exception& e) {
            problems_.push_back(full + ": " + e.displayText());
            return fallback;
        }
        std::size_t open = value.find("${");
        if (open != std::string::npos) {
            if (cache_.unusable.empty())
                cache_.unusable = full + ": " + value.substr(open, value.find('}', open) - open + 1) +
                                  " is not defined (is the environment variable set?)";
            return fallback;
        }
        return value;
    }

    int integer(const std::string& key, int fallback, int min, int max) {
        std::string raw = text(key, "");
        if (raw.empty()) return fallback;
        std::int64_t value = 0;
        if (!internal::parseStrictInt64(raw, value)) {
            problems_.push_back("redis." + key + " = '" + raw + "' is not an integer");
            return fallback;
        }
        if (value < min || value > max) {
            problems_.push_back("redis." + key + " = " + raw + " is out of range [" + std::to_string(min) +
                                ", " + std::to_string(max) + "]");
            return fallback;
        }
        return static_cast<int>(value);
    }

  private:
    const Poco::Util::AbstractConfiguration& config_;
    CacheSettings& cache_;
    std::vector<std::string>& problems_;
};

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
    Reader read(config, c, problems);
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
