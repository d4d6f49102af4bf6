#pragma once
/// berth/migration.h — versioned schema changes a plugin declares in configure(); the host
/// applies them (`berthd migrate up`, or at start with `db.<name>.auto_migrate = true`) and
/// records each one in the `berth_migrations` table of its database.
///
///     void configure(berth::Context& ctx) override {
///         db_ = &ctx.db("main");
///         ctx.addMigrations({
///             {1, "create visit_tasks", "ops@example.com",
///              "CREATE TABLE visit_tasks (id bigserial PRIMARY KEY, title text NOT NULL)",
///              "DROP TABLE visit_tasks"},
///             {2, "index visit_tasks by title", "ops@example.com",
///              "CREATE INDEX visit_tasks_title ON visit_tasks (title)",
///              "DROP INDEX visit_tasks_title"},
///         });
///     }
///
/// Versions are positive integers, unique per plugin, applied in increasing order and rolled back
/// in decreasing order (1, 2, 3 … or dates such as 2024050101 both work). Each migration runs in a
/// transaction of its own, together with its row in berth_migrations: if its SQL fails, nothing of
/// it stays. So `up` and `down` may hold several statements (sent as one simple query, without
/// parameters) but no statement that begins or ends a transaction (BEGIN, COMMIT, ROLLBACK, END
/// … — addMigrations() throws; SAVEPOINT is fine), nor statements PostgreSQL refuses inside a
/// transaction (CREATE INDEX CONCURRENTLY, VACUUM, CREATE DATABASE).
///
/// Once applied, a migration's `up` must not change: its checksum (SHA-256 of `up`, whitespace
/// included) is recorded, and berthd refuses to migrate a plugin whose applied migration no
/// longer matches. Fix a mistake with a new migration. `down`, description and author may change.

#include <cstdint>
#include <string>

namespace berth {
inline namespace v1 {

struct Migration {
    /// > 0, unique within the plugin.
    std::int64_t version = 0;
    /// One line for `berthd migrate status` and the berth_migrations row.
    std::string description;
    /// Who wrote it (name or e-mail), recorded with it.
    std::string author;
    /// SQL that makes the change (one or more statements).
    std::string up;
    /// SQL that undoes it; empty: the migration cannot be rolled back (`down` refuses).
    std::string down;
    /// The `db.<name>` the migration belongs to; its berth_migrations table lives there too.
    std::string database = "main";
};

}  // namespace v1
}  // namespace berth
