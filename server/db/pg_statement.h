#pragma once
// Runs one statement on a libpq connection: parameters bound as $1..$n in text format
// (PQsendQueryParams), the answer awaited with a deadline, the result read into typed cells by
// each column's type OID (PQftype).
//
// Why libpq and not Poco::Data's Statement/RecordSet: RecordSet turns NULL into 0 or "", drops
// timestamp fractions and offsets, returns uuid as empty and arrays as text, and a one-shot
// statement costs prepare + execute + DEALLOCATE (POCO-NOTES). Poco's SessionPool still owns
// the connections; we only borrow each session's PGconn.

#include <stdexcept>
#include <string_view>
#include <vector>

#include "berth/db.h"

struct pg_conn;

namespace berth::server::pg {

/// The connection is gone (PQstatus CONNECTION_BAD, the server shutting down — 57P01..57P03 —, or
/// no answer before the deadline); the caller discards it. Never thrown for an error about the
/// statement itself (that is DbError, whatever its SQLSTATE class).
class ConnectionLost : public std::runtime_error {
  public:
    enum class Stage {
        BeforeSend,  ///< the statement never reached the server: a retry elsewhere is safe
        AfterSend,   ///< it may have run (in part, or even committed): never retry
        Deadline,    ///< no answer in time: never retry
    };
    ConnectionLost(const std::string& message, Stage stage) : std::runtime_error(message), stage_(stage) {}
    Stage stage() const noexcept { return stage_; }

  private:
    Stage stage_;
};

/// The statement cannot be used here and left the connection in a state that cannot be recovered
/// (COPY TO STDOUT): a DbError for the plugin, and the caller discards the connection.
class ConnectionSpoiled : public std::runtime_error {
  public:
    ConnectionSpoiled(std::string sqlState, const std::string& message)
        : std::runtime_error(message), sqlState_(std::move(sqlState)) {}
    const std::string& sqlState() const noexcept { return sqlState_; }

  private:
    std::string sqlState_;
};

/// `timeoutMs` <= 0: wait as long as it takes. Throws DbError, ConnectionLost or ConnectionSpoiled.
/// `stateChanged` (optional) is set when the statement may have changed session state that would
/// carry over to the next borrower (SET, LISTEN, PREPARE, DECLARE, advisory locks, temp tables…).
DbResult runStatement(pg_conn* conn, std::string_view sql, const std::vector<Json>& params, int timeoutMs,
                      bool* stateChanged = nullptr);

/// Runs SQL text that may hold several statements and no parameters (simple query protocol), for
/// session setup and reset. Throws DbError, ConnectionLost or ConnectionSpoiled.
void runScript(pg_conn* conn, const std::string& sql, int timeoutMs);

/// True when an idle connection is still usable: nothing but harmless notices arrived while it was
/// idle, and the server has not closed it. Cheap (a poll() with no wait).
bool idleConnectionAlive(pg_conn* conn);

/// PQTRANS_IDLE: not inside a transaction block and not busy.
bool connectionIdle(pg_conn* conn);
/// PQTRANS_INERROR: a statement of the open transaction failed; only ROLLBACK is possible.
bool transactionFailed(pg_conn* conn);
/// Inside a transaction block, idle or failed (PQTRANS_INTRANS / PQTRANS_INERROR): a ROLLBACK
/// would answer at once from a healthy server.
bool inTransactionBlock(pg_conn* conn);

}  // namespace berth::server::pg
