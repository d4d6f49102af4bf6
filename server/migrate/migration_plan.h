#pragma once
// What `berthd migrate` and auto_migrate decide before touching anything: the migrations the
// plugins declare, compared with the rows of berth_migrations, give each one a state (applied,
// pending, changed since it was applied, or recorded but no longer declared), and the steps of
// an `up` or `down`. Pure logic; the database side is in migration_store.h.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "berth/migration.h"

namespace berth::server {

/// The migrations one plugin declared (Context::addMigrations), as the plugin manager hands them on.
struct PluginMigrations {
    std::string plugin;
    std::vector<Migration> migrations;
};

/// SHA-256 (hex) of a migration's up SQL: what berth_migrations.checksum records. The down SQL
/// is not part of it, so a broken down can be fixed in place (the current one is what runs).
/// Any change to the up text, whitespace included, changes it.
std::string migrationChecksum(const Migration& migration);
/// The checksum the first release recorded (up and down framed together); still accepted as
/// matching, so rows recorded by it do not show as changed.
std::string legacyMigrationChecksum(const Migration& migration);

/// The statements of `sql` as PostgreSQL splits a simple query (at top-level semicolons), each as
/// its first words, upper-cased (at most three; a quoted string, identifier or dollar-quoted body
/// counts as an empty word). Comments (--, nested /* */), '…' with '' escapes, E'…' with
/// backslash escapes, "identifiers", $tag$…$tag$ bodies and BEGIN ATOMIC … END function bodies
/// are skipped as PostgreSQL does. Statements holding nothing but comments are left out.
std::vector<std::vector<std::string>> sqlStatementHeads(const std::string& sql);

/// Empty when `sql` is fit for a migration; otherwise why not: it holds no statement (only
/// comments or blanks), or a statement that opens or ends a transaction (BEGIN, START
/// TRANSACTION, COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED) —
/// each migration runs in a transaction the host opens and commits. SAVEPOINT, RELEASE and
/// ROLLBACK TO SAVEPOINT stay inside it and are allowed.
std::string migrationSqlProblem(const std::string& sql);

/// One row of berth_migrations.
struct AppliedMigration {
    std::string plugin;
    std::int64_t version = 0;
    std::string description;
    std::string author;
    std::string appliedAt;  // ISO 8601, UTC
    std::string checksum;
};

enum class MigrationState {
    Applied,  // recorded, and its source still has the recorded checksum
    Pending,  // declared, not recorded
    Changed,  // recorded with another checksum than its source has now
    Missing,  // recorded, but the plugin no longer declares it
};
const char* stateName(MigrationState state) noexcept;

struct MigrationStatus {
    std::string plugin;
    std::int64_t version = 0;
    MigrationState state = MigrationState::Pending;
    std::optional<Migration> declared;        // absent for Missing
    std::optional<AppliedMigration> applied;  // absent for Pending
    std::string checksum;                     // of the source (empty for Missing)
};

/// Every migration of one plugin — declared or recorded — by increasing version.
std::vector<MigrationStatus> compareMigrations(const std::string& plugin,
                                               const std::vector<Migration>& declared,
                                               const std::vector<AppliedMigration>& applied);

/// Why a plugin cannot be migrated as asked; what() is the message for the operator.
class MigrationRefused : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The pending migrations to apply for `up` (all, or those with version <= `to`), by increasing
/// version. Throws MigrationRefused when an applied migration changed (checksum mismatch), or when
/// a pending one has a lower version than one already applied (out of order) unless
/// `allowOutOfOrder`.
std::vector<MigrationStatus> planUp(const std::vector<MigrationStatus>& status,
                                    std::optional<std::int64_t> to, bool allowOutOfOrder = false);

/// For status: the highest applied version above `m`'s when `m` is pending (it would be applied
/// out of order); nullopt otherwise.
std::optional<std::int64_t> appliedAbove(const std::vector<MigrationStatus>& status,
                                         const MigrationStatus& m);

/// The applied migrations to roll back for `down`, by decreasing version: with `to`, every one
/// above it (to = 0: all); without, the last one applied. Throws MigrationRefused when one of
/// them changed, is no longer declared, or has no down SQL.
std::vector<MigrationStatus> planDown(const std::vector<MigrationStatus>& status,
                                      std::optional<std::int64_t> to);

}  // namespace berth::server
