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

/// The connection is gone (server restarted or down, network, no answer before the deadline);
/// the caller discards it. Never thrown for an error about the statement itself (that is DbError).
class ConnectionLost : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// `timeoutMs` <= 0: wait as long as it takes. Throws DbError or ConnectionLost.
DbResult runStatement(pg_conn* conn, std::string_view sql, const std::vector<Json>& params, int timeoutMs);

/// True when an idle connection is still usable: nothing but harmless notices arrived while it was
/// idle, and the server has not closed it. Cheap (a poll() with no wait).
bool idleConnectionAlive(pg_conn* conn);

/// PQTRANS_IDLE: not inside a transaction block and not busy.
bool connectionIdle(pg_conn* conn);
/// PQTRANS_INERROR: a statement of the open transaction failed; only ROLLBACK is possible.
bool transactionFailed(pg_conn* conn);

}  // namespace berth::server::pg
