#include "pg_env.h"

#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <atomic>
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

PgEnv pgEnv() {
    std::string missing;
    PgEnv env;
    env.host = required("BERTH_PG_HOST", missing);
    std::string port = required("BERTH_PG_PORT", missing);
    env.user = required("BERTH_PG_USER", missing);
    env.password = required("BERTH_PG_PASSWORD", missing);
    env.database = required("BERTH_PG_TEST_DATABASE", missing);
    std::string replicaPort = required("BERTH_PG_REPLICA_PORT", missing);
    if (!missing.empty())
        CPPUNIT_FAIL("the integration tests need the local PostgreSQL: " + missing +
                     " not set. Run them with `scripts/dev test`, or `scripts/postgres start --replica && "
                     "eval \"$(scripts/postgres env)\"` first.");
    env.port = std::stoi(port);
    env.replicaPort = std::stoi(replicaPort);
    if (!acceptsConnections(env.port))
        CPPUNIT_FAIL("PostgreSQL does not answer on 127.0.0.1:" + port +
                     " (BERTH_PG_PORT): start it with `scripts/postgres start --replica`");
    return env;
}

server::DatabaseSettings testDatabase(const std::string& name) {
    PgEnv env = pgEnv();
    server::DatabaseSettings db;
    db.name = name;
    db.primary = {env.host, env.port};
    db.dbname = env.database;
    db.user = env.user;
    db.password = env.password;
    db.poolMin = 0;
    db.poolMax = 4;
    db.poolWaitMs = 300;
    db.connectTimeoutS = 2;
    db.statementTimeoutMs = 5000;
    return db;
}

void postgresScript(const std::string& args) {
    std::string command = std::string(BERTH_SOURCE_DIR) + "/scripts/postgres " + args + " 2>&1";
    int status = std::system(command.c_str());
    CPPUNIT_ASSERT_EQUAL_MESSAGE("scripts/postgres " + args, 0, status);
}

std::string uniqueName(const std::string& what) {
    static std::atomic<int> counter{0};
    return "it_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" + what;
}

}  // namespace berth::test
