#pragma once
// berth::DbSession as the host implements it: one leased connection behind a DbConnection or a
// DbTransaction. Statements run through libpq (pg_statement.h).
//
// Retries: a statement is run again on another connection only when it never reached the server
// (the send failed, or the server had closed the idle session before we sent: a restart), and
// for a transaction's BEGIN; never after a deadline, and all attempts share one deadline. A
// connection lost after a statement was sent is a 503: it may have run (even committed).
// After a lost connection the session is failed: further statements and a commit throw the 503
// again, so a handler that catches it cannot end in a "successful" commit.

#include <string>

#include "berth/db.h"
#include "connection_pool.h"

namespace berth::server {

class HostDatabase;

class HostSession : public DbSession {
  public:
    /// For a transaction, sends BEGIN (and throws ApiError 503 when that fails).
    HostSession(HostDatabase& db, ConnectionPool::Lease lease, bool transaction, std::string requestId);
    ~HostSession() override;

    DbResult query(std::string_view sql, const std::vector<Json>& params) override;
    void finish(bool commit) override;
    /// Commits; a failure is logged and recorded for the request (scope_end_failure.h), so the
    /// pipeline answers 500 (or 503) instead of the handler's reply.
    void finishAtScopeEnd() noexcept override;

  private:
    /// Runs one statement under a span of its own (a child of the request's).
    DbResult run(std::string_view sql, const std::vector<Json>& params);
    DbResult runWithRetries(std::string_view sql, const std::vector<Json>& params);
    /// Drops the broken connection and counts it.
    void dropLease(const std::string& reason);
    [[noreturn]] void failedEarlier();

    HostDatabase& db_;
    ConnectionPool::Lease lease_;
    bool transaction_;
    bool started_ = false;  // a statement (BEGIN included) has run on this session
    bool failed_ = false;   // the connection was lost: the transaction, if any, is gone
    bool ended_ = false;    // finish() was called
    std::string requestId_;
};

}  // namespace berth::server
