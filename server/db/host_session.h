#pragma once
// berth::DbSession as the host implements it: one leased connection behind a DbConnection or a
// DbTransaction. Statements run through libpq (pg_statement.h). When the first statement (BEGIN,
// for a transaction) fails because a session that waited in the pool was closed by the server
// (a restart), the session is dropped and the statement retried on another one (nothing ran
// yet, so this is safe); a transaction that is not committed is rolled back when the session ends.

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

  private:
    DbResult run(std::string_view sql, const std::vector<Json>& params);

    HostDatabase& db_;
    ConnectionPool::Lease lease_;
    bool transaction_;
    bool retryable_ = true;  // nothing has run on this session yet
    std::string requestId_;
};

}  // namespace berth::server
