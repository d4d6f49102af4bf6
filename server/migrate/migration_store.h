#pragma once
// The database side of migrations, on one dedicated libpq connection to a database's primary
// (not a pooled one: the advisory lock belongs to the connection, and migrations may run longer
// than db.<name>.statement_timeout_ms allows a request). The lock — pg_advisory_lock on a fixed
// key, per PostgreSQL database — is taken before berth_migrations is created or read and held
// until the connection closes, so two berthd instances never plan or apply at the same time:
// the second waits, then finds the work done. The wait is bounded (migrate.lock_timeout_s) and
// ends early when the caller asks (a stop signal).

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

/// The database's settings cannot work (an undefined ${...}): waiting will not help.
class MigrationDatabaseUnusable : public MigrationDatabaseError {
  public:
    using MigrationDatabaseError::MigrationDatabaseError;
};

/// The migration lock stayed taken by another session for the whole lock timeout.
class MigrationLockTimeout : public MigrationDatabaseError {
  public:
    using MigrationDatabaseError::MigrationDatabaseError;
};

/// A stop was requested while waiting (for the lock, or for the database).
class MigrationStopped : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A migration's SQL failed (berthd migrate exits 70). rolledBack(): everything it did was rolled
/// back; otherwise its SQL ended the host's transaction and some of it may have been committed.
class MigrationFailed : public std::runtime_error {
  public:
    explicit MigrationFailed(const std::string& what, bool rolledBack = true)
        : std::runtime_error(what), rolledBack_(rolledBack) {}
    bool rolledBack() const noexcept { return rolledBack_; }

  private:
    bool rolledBack_;
};

/// How long and how lock() waits.
struct LockWait {
    /// Give up (MigrationLockTimeout) after this many seconds.
    int timeoutS = 60;
    /// Sleeps up to `ms` milliseconds; true when a stop was requested (lock() then throws
    /// MigrationStopped). Default: sleeps, never stops.
    std::function<bool(int ms)> pause;
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

    /// Takes the advisory lock, polling while another session holds it; `onWait` is called once
    /// before waiting with a description of the holder ("pid 123 (berthd, 127.0.0.1)"). Throws
    /// MigrationLockTimeout or MigrationStopped. Then creates berth_migrations if it does not exist.
    void lock(const std::function<void(const std::string& holder)>& onWait, const LockWait& wait = {});
    /// The schema-qualified berth_migrations ("it_1_mig".berth_migrations).
    const std::string& table() const noexcept { return table_; }
    /// Every row of berth_migrations.
    std::vector<AppliedMigration> applied();
    /// BEGIN; the up SQL; the row; COMMIT — or ROLLBACK and MigrationFailed. Afterwards the session
    /// is reset (RESET ALL and the setup again), so settings the SQL changed do not leak on.
    void apply(const std::string& plugin, const Migration& migration, const std::string& checksum);
    /// BEGIN; the down SQL; delete the row; COMMIT — or ROLLBACK and MigrationFailed.
    void revert(const std::string& plugin, const Migration& migration);

  private:
    void exec(const std::string& sql, const char* what);
    void inTransaction(const std::string& what, const std::function<void()>& body);
    void resetSession();
    void resetAfterFailure();
    void requireOpenTransaction();
    std::string lockHolder();

    std::string name_;
    std::string setup_;  // the session settings, applied after connecting and after each migration
    std::string table_;
    pg_conn* conn_ = nullptr;
};

}  // namespace berth::server
