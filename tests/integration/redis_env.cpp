#include "redis_env.h"

#include <Poco/Redis/Array.h>
#include <Poco/Redis/Type.h>
#include <cppunit/extensions/HelperMacros.h>

#include <cstdio>

#include "local_service.h"
#include "local_services.h"

namespace berth::test {
namespace {

const LocalService kRedis{"Redis", "redis", "start"};

}  // namespace

RedisEnv redisEnv() {
    testkit::LocalRedis local = testkit::localRedis();
    RedisEnv env;
    env.host = local.host;
    env.password = local.password;
    env.port = local.port;
    env.db = local.db;
    requireAnswers(kRedis, env.port, "BERTH_REDIS_PORT");
    return env;
}

server::CacheSettings testCacheSettings() {
    RedisEnv env = redisEnv();
    server::CacheSettings s;
    s.host = env.host;
    s.port = env.port;
    s.password = env.password;
    s.db = env.db;
    s.poolSize = 4;
    s.poolWaitMs = 200;
    s.connectTimeoutMs = 500;
    s.commandTimeoutMs = 1000;
    return s;
}

void redisScript(const std::string& args) {
    runServiceScript(kRedis, args);
}

std::string redisPid() {
    std::string command = std::string(BERTH_SOURCE_DIR) + "/scripts/redis pid 2>/dev/null";
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[64];
        while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
        ::pclose(pipe);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    CPPUNIT_ASSERT_MESSAGE("scripts/redis pid: Redis does not run", !out.empty());
    return out;
}

std::unique_ptr<Poco::Redis::Client> rawRedis() {
    RedisEnv env = redisEnv();
    auto client = std::make_unique<Poco::Redis::Client>(env.host, env.port);
    Poco::Redis::Array auth;
    auth << "AUTH" << env.password;
    client->execute<std::string>(auth);
    Poco::Redis::Array select;
    select << "SELECT" << std::to_string(env.db);
    client->execute<std::string>(select);
    return client;
}

std::optional<std::string> rawGet(const std::string& fullKey) {
    Poco::Redis::BulkString value =
        rawRedis()->execute<Poco::Redis::BulkString>(Poco::Redis::Array() << "GET" << fullKey);
    if (value.isNull()) return std::nullopt;
    return value.value();
}

void rawDelete(const std::string& pattern) {
    std::unique_ptr<Poco::Redis::Client> client = rawRedis();
    Poco::Redis::Array keys = client->execute<Poco::Redis::Array>(Poco::Redis::Array() << "KEYS" << pattern);
    if (keys.isNull()) return;  // Poco's answer to an empty array
    for (std::size_t i = 0; i < keys.size(); ++i)
        client->execute<Poco::Int64>(Poco::Redis::Array()
                                     << "DEL" << keys.get<Poco::Redis::BulkString>(i).value());
}

std::string uniquePlugin() {
    return uniqueId();
}

}  // namespace berth::test
