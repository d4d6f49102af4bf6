#pragma once
// What the cache integration tests need from the local Redis: its settings from BERTH_REDIS_*
// (which `scripts/dev test` and `eval "$(scripts/redis env)"` export), cache settings built from
// them, scripts/redis to stop and start it, and a raw client to look behind the namespacing.

#include <Poco/Redis/Client.h>

#include <memory>
#include <optional>
#include <string>

#include "cache/cache_settings.h"

namespace berth::test {

struct RedisEnv {
    std::string host, password;
    int port = 0;
    int db = 0;
};

/// The BERTH_REDIS_* settings; fails the test (CPPUNIT_FAIL) naming what is unset.
RedisEnv redisEnv();

/// Settings for the test Redis: a small pool and short timeouts.
server::CacheSettings testCacheSettings();

/// Runs scripts/redis with `args` ("restart", "stop", "start"); fails the test on a non-zero exit.
void redisScript(const std::string& args);

/// The pid of the local Redis (scripts/redis pid); fails the test when it does not run.
std::string redisPid();

/// A client connected to the test Redis (AUTH, SELECT), bypassing berthd's namespacing.
std::unique_ptr<Poco::Redis::Client> rawRedis();

/// GET of a full key ("<plugin>:<key>") on the test Redis, bypassing berthd's namespacing.
std::optional<std::string> rawGet(const std::string& fullKey);

/// Deletes every key matching `pattern` (KEYS syntax) on the test Redis.
void rawDelete(const std::string& pattern);

/// A plugin name unique to this process and call: "it_<pid>_<n>".
std::string uniquePlugin();

}  // namespace berth::test
