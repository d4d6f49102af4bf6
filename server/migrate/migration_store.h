#pragma once
// The database side of migrations, on one dedicated libpq connection to a database's primary
// (not a pooled one: the advisory lock belongs to the connection, and migrations may run longer
// than db.<name>.statement_timeout_ms allows a request). The lock — pg_advisory_lock on a fixed
// key, per PostgreSQL database — is taken before berth_migrations is created or read and held
// until the connection closes, so two berthd instances never plan or apply at the same time:
// the second waits, then finds the work done.

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../db/database_settings.h"
#include "migration_plan.h"

struct pg_conn;

namespace berth::server {

/// The database could not be reached or the lock not taken (berthd migrate exits 69).
class MigrationDatabaseError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A migration's SQL failed; it was rolled back (berthd migrate exits 70).
class MigrationFailed : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class MigrationStore {
  public:
    /// The advisory lock key (fixed; the same for every berthd and every plugin).
    static constexpr long long kLockKey = 0x626572746d6d6967LL;

    /// Connects to the primary of `settings` (statement_timeout off, UTC, db.<name>.schema as
    /// search_path). Throws MigrationDatabaseError.
    explicit MigrationStore(const DatabaseSettings& settings);
    ~MigrationStore();
    MigrationStore(const MigrationStore&) = delete;
    MigrationStore& operator=(const MigrationStore&) = delete;

    /// Takes the advisory lock, waiting for another holder; `onWait` is called once before
    /// waiting. Then creates berth_migrations if it does not exist.
    void lock(const std::function<void()>& onWait);
    /// Every row of berth_migrations.
    std::vector<AppliedMigration> applied();
    /// BEGIN; the up SQL; the row; COMMIT — or ROLLBACK and MigrationFailed.
    void apply(const std::string& plugin, const Migration& migration, const std::string& checksum);
    /// BEGIN; the down SQL; delete the row; COMMIT — or ROLLBACK and MigrationFailed.
    void revert(const std::string& plugin, const Migration& migration);

  private:
    void exec(const std::string& sql, const char* what);
    void inTransaction(const std::string& what, const std::function<void()>& body);

    std::string name_;
    pg_conn* conn_ = nullptr;
};

}  // namespace berth::server
