#include "redis_env.h"

#include <Poco/Redis/Array.h>
#include <Poco/Redis/Type.h>
#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "berthd_process.h"

namespace berth::test {
namespace {

std::string required(const char* name, std::string& missing) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        missing += std::string(missing.empty() ? "" : ", ") + name;
        return "";
    }
    return value;
}

}  // namespace

RedisEnv redisEnv() {
    std::string missing;
    RedisEnv env;
    env.host = required("BERTH_REDIS_HOST", missing);
    std::string port = required("BERTH_REDIS_PORT", missing);
    env.password = required("BERTH_REDIS_PASSWORD", missing);
    std::string db = required("BERTH_REDIS_DB", missing);
    if (!missing.empty())
        CPPUNIT_FAIL("the cache integration tests need the local Redis: " + missing +
                     " not set. Run them with `scripts/dev test`, or `scripts/redis start && "
                     "eval \"$(scripts/redis env)\"` first.");
    env.port = std::stoi(port);
    env.db = std::stoi(db);
    if (!acceptsConnections(env.port))
        CPPUNIT_FAIL("Redis does not answer on 127.0.0.1:" + port +
                     " (BERTH_REDIS_PORT): start it with `scripts/redis start`");
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
    std::string command = std::string(BERTH_SOURCE_DIR) + "/scripts/redis " + args + " 2>&1";
    int status = std::system(command.c_str());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("scripts/redis " + args, 0, status);
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
    static std::atomic<int> counter{0};
    return "it_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
}

}  // namespace berth::test
