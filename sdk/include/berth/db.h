#pragma once
/// berth/db.h — PostgreSQL for plugins: the named databases of conf/berth.properties
/// (`db.<name>.*`), one connection pool per name shared by every plugin.
///
///     void configure(berth::Context& ctx) override { db_ = &ctx.db("main"); }  // unknown name: throws
///
///     berth::Reply listTasks(const berth::Request& req) {
///         berth::DbConnection conn = db_->acquire(req);              // reads (a replica, if any)
///         berth::DbResult rows = conn.query("SELECT id, title, done FROM tasks WHERE owner = $1",
///                                           {req.param("owner")});
///         return rows.toJson();                                       // [{"id":1,"title":"…","done":false}]
///     }
///
///     berth::Reply addTask(const berth::Request& req) {
///         berth::DbTransaction tx = db_->transaction(req);            // always the primary
///         tx.execute("INSERT INTO tasks (owner, title) VALUES ($1, $2)",
///                    {req.param("owner"), req.json()["title"]});
///         tx.execute("UPDATE owners SET task_count = task_count + 1 WHERE name = $1", {req.param("owner")});
///         return berth::Json::object({{"added", true}});
///     }   // commits here; an exception (or tx.rollback()) rolls everything back
///
/// Parameters are bound as $1..$n, never pasted into the SQL: null → NULL, bool, integer,
/// double and string as themselves, an array of scalars as a PostgreSQL array (`$1::int[]`),
/// an object as JSON text (for json/jsonb; pass `Json(value.dump())` for a JSON array).
///
/// Cells come back typed: int2/4/8 and oid → integer; float4/8 → double; numeric → integer when
/// integral and within 64 bits, else double (cast to text in SQL for exact decimals); bool;
/// text, varchar, char, uuid, date, time, interval → string; timestamp → "2024-05-01T12:30:00.5",
/// timestamptz → "2024-05-01T12:30:00.5Z" (sessions run in UTC); json/jsonb → the JSON value;
/// arrays of those → arrays; NULL → null.
///
/// Numeric values that a double cannot hold exactly (more than 15 significant digits) come back as
/// their decimal text, a JSON string, rather than rounded.
///
/// Writes: acquire() may hand out a replica connection (read-only: a write fails with SQLSTATE
/// 25006). Every write, even a single statement, goes through transaction(), which is always the
/// primary.
///
/// Errors: the database down, unreachable, or no free connection within db.<name>.pool_wait_ms
/// → ApiError 503 "database unavailable" (an envelope, if the handler lets it through). A
/// connection lost while a statement ran is a 503 too — the statement may have run — and every
/// later statement or commit on that handle throws the 503 again. An error PostgreSQL reports
/// about the statement (a constraint violation, bad SQL, a statement timeout) → DbError with its
/// SQLSTATE; uncaught, a 500. Also DbError: "22021" for a NUL byte in the SQL or a parameter
/// (PostgreSQL text cannot hold one; nothing is sent), "0A000" for COPY … FROM STDIN / TO STDOUT
/// (not supported), "08007" when the connection was lost during COMMIT (the outcome is unknown).
///
/// Session state does not leak between requests: a connection on which SET, LISTEN, PREPARE,
/// DECLARE, advisory locks or temporary tables were used is reset (what DISCARD ALL does, then the
/// host's settings again) before the next borrower gets it.
///
/// Handles are not thread-safe: use one from one thread at a time, and let it go before the
/// handler returns (it holds a pooled connection).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "berth/json.h"

namespace berth {
inline namespace v1 {

class Request;

/// An error PostgreSQL reported about a statement. sqlState() is the five-character code
/// ("23505" unique_violation, "23503" foreign_key_violation, "42P01" undefined_table,
/// "57014" query_canceled by the statement timeout, …).
class DbError : public std::runtime_error {
  public:
    DbError(std::string sqlState, const std::string& message);
    ~DbError() override;
    const std::string& sqlState() const noexcept { return sqlState_; }

  private:
    std::string sqlState_;
};

struct DbColumn {
    std::string name;
    std::uint32_t typeOid = 0;  ///< PostgreSQL type OID (23 int4, 25 text, 3802 jsonb, …)
};

class DbResult;

/// One row of a DbResult; valid while the result lives.
class DbRow {
  public:
    DbRow(const DbResult& result, std::size_t index) noexcept : result_(&result), index_(index) {}
    /// The cell of a column by name; throws std::out_of_range naming an unknown column.
    const Json& operator[](std::string_view column) const;
    /// The cell of a column by position; throws std::out_of_range.
    const Json& at(std::size_t column) const;
    std::size_t size() const noexcept;
    /// {"column": value, …}
    Json toJson() const;

  private:
    const DbResult* result_;
    std::size_t index_;
};

/// The rows a statement returned, with typed cells.
class DbResult {
  public:
    DbResult() = default;
    /// For the host: `cells` holds rows × columns values, row after row.
    DbResult(std::vector<DbColumn> columns, std::vector<Json> cells, std::int64_t affectedRows);

    const std::vector<DbColumn>& columns() const noexcept { return columns_; }
    /// Position of a column by name, or npos.
    std::size_t columnIndex(std::string_view name) const noexcept;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    std::size_t size() const noexcept { return columns_.empty() ? 0 : cells_.size() / columns_.size(); }
    bool empty() const noexcept { return size() == 0; }
    /// A row; throws std::out_of_range. Not on a temporary result (`conn.query(...)[0]` would
    /// dangle): keep the result in a variable.
    DbRow operator[](std::size_t row) const&;
    DbRow operator[](std::size_t row) const&& = delete;
    const Json& cell(std::size_t row, std::size_t column) const&;
    const Json& cell(std::size_t row, std::size_t column) const&& = delete;
    /// Rows inserted, updated or deleted (or returned, for SELECT), as PostgreSQL counts them.
    std::int64_t affectedRows() const noexcept { return affectedRows_; }

    /// [{"column": value, …}, …], columns in select order.
    Json toJson() const;

    class Iterator {
      public:
        Iterator(const DbResult& result, std::size_t index) noexcept : result_(&result), index_(index) {}
        DbRow operator*() const noexcept { return DbRow(*result_, index_); }
        Iterator& operator++() noexcept {
            ++index_;
            return *this;
        }
        bool operator!=(const Iterator& other) const noexcept { return index_ != other.index_; }

      private:
        const DbResult* result_;
        std::size_t index_;
    };
    Iterator begin() const noexcept { return Iterator(*this, 0); }
    Iterator end() const noexcept { return Iterator(*this, size()); }

  private:
    std::vector<DbColumn> columns_;
    std::vector<Json> cells_;
    std::int64_t affectedRows_ = 0;
};

/// One leased connection as the host implements it. Plugins use DbConnection and DbTransaction.
class DbSession {
  public:
    virtual ~DbSession();
    virtual DbResult query(std::string_view sql, const std::vector<Json>& params) = 0;
    /// Ends a transaction (commit or rollback) and gives the connection back; called once at most.
    virtual void finish(bool commit) = 0;
    /// The commit at the end of a DbTransaction's scope: must not throw. The host reports a
    /// failure by answering the request with an error; this default ignores it.
    virtual void finishAtScopeEnd() noexcept;
};

/// A pooled connection for reads, from a replica when there are any (writes: DbTransaction).
/// Move-only; gives the connection back to the pool when destroyed.
class DbConnection {
  public:
    /// For the host.
    explicit DbConnection(std::unique_ptr<DbSession> session) noexcept;
    DbConnection(DbConnection&&) noexcept;
    DbConnection& operator=(DbConnection&&) noexcept;
    ~DbConnection();

    /// Runs one statement with $1..$n bound to `params` and returns its rows.
    DbResult query(std::string_view sql, const std::vector<Json>& params = {});
    /// Runs one statement and returns the rows it affected.
    std::int64_t execute(std::string_view sql, const std::vector<Json>& params = {});

  private:
    std::unique_ptr<DbSession> session_;
};

/// A transaction on the primary. Ends at the end of its scope: commit, unless an exception is
/// on its way out (then rollback). commit() and rollback() end it earlier; any statement after
/// that throws std::logic_error. commit() throws when the commit fails; the commit at the end of
/// the scope cannot throw (the destructor is noexcept), so the host logs a failure there and
/// answers the request with a 500 (or 503) envelope instead of the handler's reply — call
/// commit() yourself to handle a failure in place. Not a DbConnection (no conversion to one).
class DbTransaction {
  public:
    explicit DbTransaction(std::unique_ptr<DbSession> session) noexcept;
    DbTransaction(DbTransaction&&) noexcept;
    DbTransaction& operator=(DbTransaction&&) = delete;
    ~DbTransaction();

    /// Runs one statement with $1..$n bound to `params` and returns its rows.
    DbResult query(std::string_view sql, const std::vector<Json>& params = {});
    /// Runs one statement and returns the rows it affected.
    std::int64_t execute(std::string_view sql, const std::vector<Json>& params = {});
    void commit();
    void rollback();

  private:
    std::unique_ptr<DbSession> session_;
    int uncaught_;
};

/// A named database (`db.<name>.*`); from Context::db(). Lives as long as berthd; thread-safe.
class Database {
  public:
    virtual ~Database();
    virtual const std::string& name() const noexcept = 0;
    /// A connection for reads: from a replica when `db.<name>.replicas` are configured (the
    /// primary when none answers), else from the primary. Writes: transaction().
    virtual DbConnection acquire(const Request& request) = 0;
    /// BEGIN on a primary connection.
    virtual DbTransaction transaction(const Request& request) = 0;
};

}  // namespace v1
}  // namespace berth
