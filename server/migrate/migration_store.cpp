#include "migration_store.h"

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <thread>

namespace berth::server {
namespace {

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

std::string resultError(PGconn* conn, PGresult* result) {
    std::string message = trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn));
    if (message.empty()) message = trimmed(PQerrorMessage(conn));
    return message;
}

}  // namespace

MigrationStore::MigrationStore(const DatabaseSettings& settings) : name_(settings.name) {
    if (!settings.unusable.empty())
        throw MigrationDatabaseUnusable("database '" + name_ + "' is not usable: " + settings.unusable +
                                        " — berthd cannot connect to apply or check migrations");
    conn_ = PQconnectdb(settings.connectionString(settings.primary).c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string reason = trimmed(PQerrorMessage(conn_));
        PQfinish(conn_);
        conn_ = nullptr;
        throw MigrationDatabaseError("database '" + name_ + "' (" + settings.primary.describe() +
                                     "): cannot connect: " + reason);
    }
    // Notices ("relation … already exists, skipping") would go to stderr; the outcome is reported.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    setup_ = "SET statement_timeout = 0; SET TimeZone = 'UTC'";
    if (!settings.schema.empty()) setup_ += "; SET search_path TO \"" + settings.schema + "\"";
    try {
        exec(setup_, "session setup");
        // berth_migrations is named with its schema from now on: a migration that changes
        // search_path must not move the bookkeeping elsewhere.
        const char* values[] = {settings.schema.empty() ? nullptr : settings.schema.c_str()};
        Result schema(PQexecParams(conn_, "SELECT quote_ident(coalesce($1, current_schema()))", 1, nullptr,
                                   values, nullptr, nullptr, 0),
                      &PQclear);
        if (PQresultStatus(schema.get()) != PGRES_TUPLES_OK)
            throw MigrationFailed(resultError(conn_, schema.get()));
        if (PQgetisnull(schema.get(), 0, 0))
            throw MigrationFailed(
                "no schema to keep berth_migrations in (search_path names none that exists; "
                "set db." +
                name_ + ".schema)");
        table_ = std::string(PQgetvalue(schema.get(), 0, 0)) + ".berth_migrations";
    } catch (const MigrationFailed& e) {
        // The server answered, with an error (a schema that does not exist, say): waiting
        // will not change that, unlike a database that cannot be reached.
        PQfinish(conn_);
        conn_ = nullptr;
        throw MigrationDatabaseUnusable("database '" + name_ + "': " + e.what());
    }
}

void MigrationStore::resetSession() {
    // Not DISCARD ALL: it would release the advisory lock too.
    try {
        exec("RESET ALL; " + setup_, "resetting the session after a migration");
    } catch (const MigrationFailed& e) {
        throw MigrationDatabaseError("database '" + name_ +
                                     "': resetting the session after a migration: " + e.what());
    }
}

std::string MigrationStore::lockHolder() {
    std::string key = std::to_string(kLockKey);
    Result holder(
        PQexec(conn_, ("SELECT l.pid, coalesce(a.application_name, ''), coalesce(a.client_addr::text, "
                       "'local') FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
                       " WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid "
                       "FROM pg_database WHERE datname = current_database())"
                       " AND l.classid = ((" +
                       key + ") >> 32)::oid AND l.objid = ((" + key +
                       ") & 4294967295)::oid AND l.objsubid = 1 LIMIT 1")
                          .c_str()),
        &PQclear);
    if (PQresultStatus(holder.get()) != PGRES_TUPLES_OK || PQntuples(holder.get()) == 0)
        return "another session";
    std::string app = PQgetvalue(holder.get(), 0, 1);
    return "pid " + std::string(PQgetvalue(holder.get(), 0, 0)) + " (" + (app.empty() ? "" : app + ", ") +
           PQgetvalue(holder.get(), 0, 2) + ")";
}

MigrationStore::~MigrationStore() {
    if (conn_ != nullptr) PQfinish(conn_);  // also releases the advisory lock
}

void MigrationStore::exec(const std::string& sql, const char* what) {
    Result result(PQexec(conn_, sql.c_str()), &PQclear);
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        std::string message = resultError(conn_, result.get());
        if (PQstatus(conn_) != CONNECTION_OK)
            throw MigrationDatabaseError("database '" + name_ + "': connection lost during " + what + ": " +
                                         message);
        throw MigrationFailed(message);
    }
}

void MigrationStore::lock(const std::function<void(const std::string& holder)>& onWait,
                          const LockWait& wait) {
    // Polled, not pg_advisory_lock(): a blocked statement could be neither bounded nor stopped.
    const std::string tryLock = "SELECT pg_try_advisory_lock(" + std::to_string(kLockKey) + ")";
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::seconds(wait.timeoutS);
    std::string holder;
    for (;;) {
        Result tried(PQexec(conn_, tryLock.c_str()), &PQclear);
        if (PQresultStatus(tried.get()) != PGRES_TUPLES_OK)
            throw MigrationDatabaseError("database '" + name_ + "': cannot take the migration lock: " +
                                         resultError(conn_, tried.get()));
        if (std::string(PQgetvalue(tried.get(), 0, 0)) == "t") break;
        if (holder.empty()) {
            holder = lockHolder();
            if (onWait) onWait(holder);
        }
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline)
            throw MigrationLockTimeout(
                "database '" + name_ + "': gave up waiting for the migration lock after " +
                std::to_string(wait.timeoutS) + " s (migrate.lock_timeout_s); it is held by " + lockHolder() +
                " — another berthd migrating, or a session left holding it "
                "(pg_terminate_backend ends it)");
        int ms = static_cast<int>(std::min<long long>(
            200, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
        bool stop = false;
        if (wait.pause)
            stop = wait.pause(ms);
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        if (stop)
            throw MigrationStopped("database '" + name_ +
                                   "': stop requested while waiting for the migration lock (held by " +
                                   holder + ")");
    }
    try {
        exec("CREATE TABLE IF NOT EXISTS " + table_ +
                 " ("
                 " plugin text NOT NULL,"
                 " version bigint NOT NULL,"
                 " description text NOT NULL,"
                 " author text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now(),"
                 " checksum text NOT NULL,"
                 " PRIMARY KEY (plugin, version))",
             "creating berth_migrations");
    } catch (const MigrationFailed& e) {  // answered with an error: not worth waiting for
        throw MigrationDatabaseUnusable("database '" + name_ +
                                        "': cannot create berth_migrations: " + e.what());
    }
}

std::vector<AppliedMigration> MigrationStore::applied() {
    const char* name[] = {table_.c_str()};
    Result exists(
        PQexecParams(conn_, "SELECT to_regclass($1) IS NOT NULL", 1, nullptr, name, nullptr, nullptr, 0),
        &PQclear);
    if (PQresultStatus(exists.get()) != PGRES_TUPLES_OK)
        throw MigrationDatabaseError("database '" + name_ +
                                     "': cannot read berth_migrations: " + resultError(conn_, exists.get()));
    if (std::string(PQgetvalue(exists.get(), 0, 0)) != "t") return {};  // nothing migrated yet
    Result result(
        PQexec(conn_, ("SELECT plugin, version, description, author,"
                       " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), checksum"
                       " FROM " +
                       table_ + " ORDER BY plugin, version")
                          .c_str()),
        &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK)
        throw MigrationDatabaseError("database '" + name_ +
                                     "': cannot read berth_migrations: " + resultError(conn_, result.get()));
    std::vector<AppliedMigration> rows;
    for (int i = 0; i < PQntuples(result.get()); ++i) {
        AppliedMigration row;
        row.plugin = PQgetvalue(result.get(), i, 0);
        row.version = std::stoll(PQgetvalue(result.get(), i, 1));
        row.description = PQgetvalue(result.get(), i, 2);
        row.author = PQgetvalue(result.get(), i, 3);
        row.appliedAt = PQgetvalue(result.get(), i, 4);
        row.checksum = PQgetvalue(result.get(), i, 5);
        rows.push_back(std::move(row));
    }
    return rows;
}

void MigrationStore::inTransaction(const std::string& what, const std::function<void()>& body) {
    exec("BEGIN", "BEGIN");
    bool rolledBack = true;
    try {
        try {
            body();
        } catch (const MigrationFailed& e) {
            // Failed or still open: the ROLLBACK below undoes all of it. Idle: the SQL itself ended
            // the transaction (COMMIT, ROLLBACK, END …), and what ran before that is committed.
            rolledBack = e.rolledBack() &&
                         !(PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE);
            throw;
        }
        exec("COMMIT", "COMMIT");  // a failed COMMIT rolls back
    } catch (const MigrationFailed& e) {
        if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
            Result rollback(PQexec(conn_, "ROLLBACK"), &PQclear);
        }
        resetAfterFailure();
        if (!rolledBack)
            throw MigrationFailed(
                what + " failed: " + e.what() +
                    "; the migration's transaction was ended by its SQL: statements before that "
                    "point were committed and not rolled back, and nothing was recorded in "
                    "berth_migrations — check the database by hand",
                false);
        throw MigrationFailed(what + " failed and was rolled back: " + e.what());
    }
    resetSession();
}

void MigrationStore::resetAfterFailure() {
    if (PQstatus(conn_) != CONNECTION_OK) return;
    try {
        resetSession();
    } catch (const std::exception&) {
        // The next statement on this connection fails with its own message.
    }
}

void MigrationStore::requireOpenTransaction() {
    if (PQtransactionStatus(conn_) != PQTRANS_INTRANS)
        throw MigrationFailed(
            "its SQL ended the transaction berthd opened for it (a COMMIT, ROLLBACK or END)", false);
}

void MigrationStore::apply(const std::string& plugin, const Migration& migration,
                           const std::string& checksum) {
    inTransaction("up", [&] {
        exec(migration.up, "the up SQL");
        requireOpenTransaction();
        std::string version = std::to_string(migration.version);
        const char* values[] = {plugin.c_str(), version.c_str(), migration.description.c_str(),
                                migration.author.c_str(), checksum.c_str()};
        Result result(
            PQexecParams(conn_,
                         ("INSERT INTO " + table_ +
                          " (plugin, version, description, author, checksum) VALUES ($1, $2, $3, $4, $5)")
                             .c_str(),
                         5, nullptr, values, nullptr, nullptr, 0),
            &PQclear);
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
            throw MigrationFailed("recording it in berth_migrations: " + resultError(conn_, result.get()));
    });
}

void MigrationStore::revert(const std::string& plugin, const Migration& migration) {
    inTransaction("down", [&] {
        exec(migration.down, "the down SQL");
        requireOpenTransaction();
        std::string version = std::to_string(migration.version);
        const char* values[] = {plugin.c_str(), version.c_str()};
        Result result(
            PQexecParams(conn_, ("DELETE FROM " + table_ + " WHERE plugin = $1 AND version = $2").c_str(), 2,
                         nullptr, values, nullptr, nullptr, 0),
            &PQclear);
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
            throw MigrationFailed("removing its berth_migrations row: " + resultError(conn_, result.get()));
    });
}

}  // namespace berth::server
