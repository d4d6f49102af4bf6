#pragma once
// The local PostgreSQL and Redis that scripts/postgres and scripts/redis run, as their `env`
// commands export them (`eval "$(scripts/postgres env)"`: BERTH_PG_*; `eval "$(scripts/redis
// env)"`: BERTH_REDIS_*). Read in this one place by the test kit (ApiTestCase) and by the
// integration tests (tests/integration/pg_env.cpp, redis_env.cpp). Not installed: the installed
// kit documents the variables, not this header.

#include <string>

namespace berth::testkit {

struct LocalPostgres {
    std::string host, user, password;
    std::string testDatabase;  // BERTH_PG_TEST_DATABASE: the tests' database, never berthd's own
    int port = 0;
    int replicaPort = 0;  // BERTH_PG_REPLICA_PORT; 0 unless asked for
};

struct LocalRedis {
    std::string host, password;
    int port = 0;
    int db = 0;
};

/// BERTH_PG_HOST, _PORT, _USER, _PASSWORD, _TEST_DATABASE (and _REPLICA_PORT with `withReplica`).
/// A missing or malformed one fails the test (CPPUNIT_FAIL), naming every one and how to set them.
LocalPostgres localPostgres(bool withReplica = false);

/// BERTH_REDIS_HOST, _PORT, _PASSWORD, _DB; fails the test the same way.
LocalRedis localRedis();

}  // namespace berth::testkit
