#pragma once
// Runs `berthd migrate status|up|down` and auto_migrate: groups the plugins' migrations by
// database, takes each database's migration lock (not for status), compares with
// berth_migrations, and applies or rolls back one migration per transaction, telling each step.
// Up goes through the plugins in start order, down in reverse.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../db/database_settings.h"
#include "berth/migration.h"
#include "migration_plan.h"
#include "migration_store.h"

namespace berth::server {

enum class MigrateAction { Status, Up, Down };

struct MigrateOptions {
    MigrateAction action = MigrateAction::Status;
    std::optional<std::string> plugin;  // only this plugin
    std::optional<std::int64_t> to;     // up: up to and including; down: keep this and below
    bool allowOutOfOrder = false;       // up: apply a pending migration below an applied one
    LockWait lockWait;                  // how long and how to wait for the migration lock
    /// Status only: the plugins loaded (rows of other plugins are listed as "not loaded").
    std::vector<std::string> loadedPlugins;
};

/// The worst that happened, by what `berthd migrate` exits with.
enum class MigrateOutcome {
    Ok,       // 0
    Refused,  // 65: a checksum mismatch, nothing to roll back with, out of order, an unknown --plugin;
              //     status: a changed or missing migration
    Failed,   // 70: a migration's SQL failed
};

class Migrator {
  public:
    /// `say(isError, line)` receives every line of output.
    using Say = std::function<void(bool isError, const std::string& line)>;
    Migrator(std::vector<DatabaseSettings> databases, Say say);

    /// Throws MigrationDatabaseError when a database cannot be reached (after telling what was
    /// done; outcome() then tells what went wrong before), MigrationStopped when the lock wait
    /// was stopped.
    MigrateOutcome run(const std::vector<PluginMigrations>& plugins, const MigrateOptions& options);
    /// The worst outcome so far (also after run() threw).
    MigrateOutcome outcome() const noexcept { return outcome_; }

  private:
    const DatabaseSettings& database(const std::string& name) const;

    std::vector<DatabaseSettings> databases_;
    Say say_;
    MigrateOutcome outcome_ = MigrateOutcome::Ok;
};

}  // namespace berth::server
