#pragma once
// The named databases of conf/berth.properties: db.<name>.host, .port, .dbname, .user, .password,
// .pool_min, .pool_max, .pool_wait_ms, .connect_timeout_s, .statement_timeout_ms, .replicas,
// .schema, .auto_migrate.
// Read and checked here; the keys are documented in conf/berth.properties.

#include <string>
#include <vector>

namespace Poco::Util {
class AbstractConfiguration;
}

namespace berth::server {

struct DatabaseEndpoint {
    std::string host;
    int port = 5432;
    std::string describe() const { return host + ":" + std::to_string(port); }
};

struct DatabaseSettings {
    std::string name;
    DatabaseEndpoint primary;
    std::vector<DatabaseEndpoint> replicas;  // same dbname and credentials as the primary
    std::string dbname;
    std::string user;
    std::string password;
    int poolMin = 1;
    int poolMax = 16;
    int poolWaitMs = 2000;
    int connectTimeoutS = 5;
    int statementTimeoutMs = 30000;  // 0: none
    /// The search_path of every connection ("" = the server's default): where unqualified
    /// tables, the plugins' and berth_migrations, are found and created. Must exist.
    std::string schema;
    /// Apply the plugins' pending migrations for this database at start (berth/migration.h).
    bool autoMigrate = false;
    /// Non-empty when the database cannot be used as configured (a ${system.env.X} that is not
    /// defined): berthd still starts, warns, and answers requests that use it with 503.
    std::string unusable;

    /// The connection string for Poco's PostgreSQL connector (which splits it on spaces, so
    /// values are backslash-escaped and may not hold spaces; load checks that).
    std::string connectionString(const DatabaseEndpoint& endpoint) const;
};

/// Every db.<name>.* key; problems and warnings are appended (warnings do not stop berthd).
std::vector<DatabaseSettings> loadDatabaseSettings(const Poco::Util::AbstractConfiguration& config,
                                                   std::vector<std::string>& problems,
                                                   std::vector<std::string>& warnings);

/// The key names under db.<name>. ("host", "port", …), for the documentation test.
std::vector<std::string> databaseKeyNames();

}  // namespace berth::server
