#include "local_services.h"

#include <cppunit/Exception.h>
#include <cppunit/TestAssert.h>

#include <cstdlib>
#include <vector>

#include "strict_number.h"

namespace berth::testkit {
namespace {

// Collects what is missing or malformed, so that one failure names all of it.
class EnvReader {
  public:
    std::string text(const char* name) {
        const char* value = std::getenv(name);
        if (value == nullptr) {  // set to "" is a value: a Redis without password, say
            missing_ += std::string(missing_.empty() ? "" : ", ") + name;
            return "";
        }
        return value;
    }

    int integer(const char* name, long long min, long long max) {
        const bool set = std::getenv(name) != nullptr;
        std::string raw = text(name);
        std::int64_t value = 0;
        if (!set) return 0;  // text() counted it as missing
        if (!internal::parseStrictInt64(raw, value) || value < min || value > max) {
            wrong_ += std::string(wrong_.empty() ? "" : ", ") + name + " = '" + raw + "'";
            return 0;
        }
        return static_cast<int>(value);
    }

    /// Fails the test when anything was missing or wrong; `what` and `setUp` name the service.
    void check(const std::string& what, const std::string& setUp) const {
        if (missing_.empty() && wrong_.empty()) return;
        std::string problem = missing_.empty() ? "" : missing_ + " not set";
        if (!wrong_.empty()) problem += (problem.empty() ? "" : "; ") + wrong_ + " out of range";
        CPPUNIT_FAIL("these tests need the local " + what + ": " + problem +
                     ". Run them with `scripts/dev test`, or `" + setUp + "` first.");
    }

  private:
    std::string missing_;
    std::string wrong_;
};

}  // namespace

LocalPostgres localPostgres(bool withReplica) {
    EnvReader env;
    LocalPostgres pg;
    pg.host = env.text("BERTH_PG_HOST");
    pg.port = env.integer("BERTH_PG_PORT", 1, 65535);
    pg.user = env.text("BERTH_PG_USER");
    pg.password = env.text("BERTH_PG_PASSWORD");
    pg.testDatabase = env.text("BERTH_PG_TEST_DATABASE");
    if (withReplica) pg.replicaPort = env.integer("BERTH_PG_REPLICA_PORT", 1, 65535);
    env.check("PostgreSQL", withReplica
                                ? "scripts/postgres start --replica && eval \"$(scripts/postgres env)\""
                                : "scripts/postgres start && eval \"$(scripts/postgres env)\"");
    return pg;
}

LocalRedis localRedis() {
    EnvReader env;
    LocalRedis redis;
    redis.host = env.text("BERTH_REDIS_HOST");
    redis.port = env.integer("BERTH_REDIS_PORT", 1, 65535);
    redis.password = env.text("BERTH_REDIS_PASSWORD");
    redis.db = env.integer("BERTH_REDIS_DB", 0, 65535);
    env.check("Redis", "scripts/redis start && eval \"$(scripts/redis env)\"");
    return redis;
}

}  // namespace berth::testkit
