#include "pg_env.h"

#include "local_service.h"
#include "local_services.h"

namespace berth::test {
namespace {

const LocalService kPostgres{"PostgreSQL", "postgres", "start --replica"};

}  // namespace

PgEnv pgEnv() {
    testkit::LocalPostgres local = testkit::localPostgres(/*withReplica=*/true);
    PgEnv env;
    env.host = local.host;
    env.user = local.user;
    env.password = local.password;
    env.database = local.testDatabase;
    env.port = local.port;
    env.replicaPort = local.replicaPort;
    requireAnswers(kPostgres, env.port, "BERTH_PG_PORT");
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
    runServiceScript(kPostgres, args);
}

std::string uniqueName(const std::string& what) {
    return uniqueId() + "_" + what;
}

}  // namespace berth::test
