#include "host_session.h"

#include "host_database.h"
#include "pg_statement.h"

namespace berth::server {
namespace {

constexpr int kMaxRetries = 8;

}  // namespace

HostSession::HostSession(HostDatabase& db, ConnectionPool::Lease lease, bool transaction,
                         std::string requestId)
    : db_(db), lease_(std::move(lease)), transaction_(transaction), requestId_(std::move(requestId)) {
    if (transaction_) run("BEGIN", {});
}

HostSession::~HostSession() = default;  // the lease rolls back an open transaction, gives the session back

DbResult HostSession::query(std::string_view sql, const std::vector<Json>& params) {
    if (!lease_) throw std::logic_error("database session used after its transaction ended");
    return run(sql, params);
}

DbResult HostSession::run(std::string_view sql, const std::vector<Json>& params) {
    for (int attempt = 0;; ++attempt) {
        try {
            DbResult result =
                pg::runStatement(lease_.conn(), sql, params, lease_.pool().statementDeadlineMs());
            retryable_ = false;
            return result;
        } catch (const pg::ConnectionLost& e) {
            // A session that waited in the pool may have been closed by a server restart: nothing
            // ran on it, so a retry on another connection is safe. After a restart every idle
            // session is dead, so retry while the failures are on sessions that had waited.
            bool retry = retryable_ && attempt < kMaxRetries && lease_.reused();
            ConnectionPool& pool = lease_.pool();
            lease_.discard();
            lease_.release();
            db_.connectionLost(pool, requestId_, e.what());
            if (!retry) db_.unavailable(requestId_, e.what(), false);
            lease_ = transaction_ ? db_.leasePrimary(requestId_) : db_.leaseForRead(requestId_);
        } catch (const DbError&) {
            retryable_ = false;
            throw;
        }
    }
}

void HostSession::finish(bool commit) {
    if (!lease_) return;
    if (!transaction_) {
        lease_.release();
        return;
    }
    if (commit && pg::transactionFailed(lease_.conn())) {
        lease_.release();  // rolls back
        throw DbError("25P02", "the transaction was rolled back because a statement in it failed");
    }
    try {
        pg::runStatement(lease_.conn(), commit ? "COMMIT" : "ROLLBACK", {},
                         lease_.pool().statementDeadlineMs());
    } catch (const pg::ConnectionLost& e) {
        ConnectionPool& pool = lease_.pool();
        lease_.discard();
        lease_.release();
        db_.connectionLost(pool, requestId_, e.what());
        if (commit) db_.unavailable(requestId_, std::string("commit failed: ") + e.what(), false);
        return;  // a rollback on a lost connection: the server has rolled back already
    } catch (...) {
        lease_.release();
        throw;
    }
    lease_.release();
}

}  // namespace berth::server
