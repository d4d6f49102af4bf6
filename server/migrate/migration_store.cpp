#include "migration_store.h"

#include <libpq-fe.h>

#include <memory>

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
        throw MigrationDatabaseError("database '" + name_ + "' is not usable: " + settings.unusable);
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
    std::string setup = "SET statement_timeout = 0; SET TimeZone = 'UTC'";
    if (!settings.schema.empty()) setup += "; SET search_path TO \"" + settings.schema + "\"";
    try {
        exec(setup, "session setup");
    } catch (const MigrationFailed& e) {
        PQfinish(conn_);
        conn_ = nullptr;
        throw MigrationDatabaseError(e.what());
    }
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

void MigrationStore::lock(const std::function<void()>& onWait) {
    std::string key = std::to_string(kLockKey);
    Result tried(PQexec(conn_, ("SELECT pg_try_advisory_lock(" + key + ")").c_str()), &PQclear);
    if (PQresultStatus(tried.get()) != PGRES_TUPLES_OK)
        throw MigrationDatabaseError("database '" + name_ +
                                     "': cannot take the migration lock: " + resultError(conn_, tried.get()));
    if (std::string(PQgetvalue(tried.get(), 0, 0)) != "t") {
        if (onWait) onWait();
        try {
            exec("SELECT pg_advisory_lock(" + key + ")", "the migration lock");
        } catch (const MigrationFailed& e) {
            throw MigrationDatabaseError("database '" + name_ +
                                         "': cannot take the migration lock: " + e.what());
        }
    }
    try {
        exec(
            "CREATE TABLE IF NOT EXISTS berth_migrations ("
            " plugin text NOT NULL,"
            " version bigint NOT NULL,"
            " description text NOT NULL,"
            " author text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(),"
            " checksum text NOT NULL,"
            " PRIMARY KEY (plugin, version))",
            "creating berth_migrations");
    } catch (const MigrationFailed& e) {
        throw MigrationDatabaseError("database '" + name_ + "': cannot create berth_migrations: " + e.what());
    }
}

std::vector<AppliedMigration> MigrationStore::applied() {
    Result exists(PQexec(conn_, "SELECT to_regclass('berth_migrations') IS NOT NULL"), &PQclear);
    if (PQresultStatus(exists.get()) != PGRES_TUPLES_OK)
        throw MigrationDatabaseError("database '" + name_ +
                                     "': cannot read berth_migrations: " + resultError(conn_, exists.get()));
    if (std::string(PQgetvalue(exists.get(), 0, 0)) != "t") return {};  // nothing migrated yet
    Result result(PQexec(conn_,
                         "SELECT plugin, version, description, author,"
                         " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), checksum"
                         " FROM berth_migrations ORDER BY plugin, version"),
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
    try {
        body();
        exec("COMMIT", "COMMIT");
    } catch (const MigrationFailed& e) {
        if (PQstatus(conn_) == CONNECTION_OK) {
            Result rollback(PQexec(conn_, "ROLLBACK"), &PQclear);
        }
        throw MigrationFailed(what + " failed and was rolled back: " + e.what());
    }
}

void MigrationStore::apply(const std::string& plugin, const Migration& migration,
                           const std::string& checksum) {
    inTransaction("up", [&] {
        exec(migration.up, "the up SQL");
        std::string version = std::to_string(migration.version);
        const char* values[] = {plugin.c_str(), version.c_str(), migration.description.c_str(),
                                migration.author.c_str(), checksum.c_str()};
        Result result(
            PQexecParams(conn_,
                         "INSERT INTO berth_migrations (plugin, version, description, author, checksum)"
                         " VALUES ($1, $2, $3, $4, $5)",
                         5, nullptr, values, nullptr, nullptr, 0),
            &PQclear);
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
            throw MigrationFailed("recording it in berth_migrations: " + resultError(conn_, result.get()));
    });
}

void MigrationStore::revert(const std::string& plugin, const Migration& migration) {
    inTransaction("down", [&] {
        exec(migration.down, "the down SQL");
        std::string version = std::to_string(migration.version);
        const char* values[] = {plugin.c_str(), version.c_str()};
        Result result(PQexecParams(conn_, "DELETE FROM berth_migrations WHERE plugin = $1 AND version = $2",
                                   2, nullptr, values, nullptr, nullptr, 0),
                      &PQclear);
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
            throw MigrationFailed("removing its berth_migrations row: " + resultError(conn_, result.get()));
    });
}

}  // namespace berth::server
