#pragma once
// What the integration tests need from the local PostgreSQL: its settings from BERTH_PG_* (which
// `scripts/dev test` and `eval "$(scripts/postgres env)"` export), database settings built from
// them, scripts/postgres to stop and start the clusters, and a Request to pass to the Db API.

#include <string>

#include "berth/request.h"
#include "db/database_settings.h"

namespace berth::test {

struct PgEnv {
    std::string host, user, password, database;
    int port = 0;
    int replicaPort = 0;
};

/// The BERTH_PG_* settings; fails the test (CPPUNIT_FAIL) naming what is unset.
PgEnv pgEnv();

/// Settings for a database on the test database of the primary (no replicas).
server::DatabaseSettings testDatabase(const std::string& name = "main");

/// Runs scripts/postgres with `args` ("restart", "stop", "start --replica"); fails the test on a
/// non-zero exit.
void postgresScript(const std::string& args);

/// A unique name for this process and call, for tables: "it_<pid>_<n>_<what>".
std::string uniqueName(const std::string& what);

/// A Request for the Db API (only its request id is used).
class TestRequest : public Request {
  public:
    explicit TestRequest(std::string_view id = "integration-test") { requestId_ = id; }
};

}  // namespace berth::test
