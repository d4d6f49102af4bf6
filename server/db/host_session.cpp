#include "host_session.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <chrono>

#include "../trace/span_scope.h"
#include "berth/error.h"
#include "host_database.h"
#include "pg_statement.h"
#include "scope_end_failure.h"

namespace berth::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxRetries = 8;
constexpr int kRetryBudgetMs = 10000;  // all attempts together, when statement_timeout_ms is 0

int msLeft(Clock::time_point deadline) {
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

// A statement's span is named by its first keyword as written ("SELECT", "insert", "BEGIN";
// Zipkin lowercases names): few names, as Zipkin wants, and nothing to allocate. The statement
// itself is a tag; its parameters never are.
std::string_view spanName(std::string_view sql) {
    std::size_t start = 0;
    while (start < sql.size() &&
           (sql[start] == ' ' || sql[start] == '\t' || sql[start] == '\n' || sql[start] == '\r'))
        ++start;
    std::size_t end = start;
    while (end < sql.size() && end - start < 32 &&
           ((sql[end] >= 'a' && sql[end] <= 'z') || (sql[end] >= 'A' && sql[end] <= 'Z')))
        ++end;
    return end > start ? sql.substr(start, end - start) : std::string_view("query");
}

// A child span of the request's for one statement, with the OpenTracing database tags.
void describeStatement(SpanScope& span, const std::string& database, std::string_view sql) {
    if (!span.recording()) return;
    span.tag("db.type", "postgresql");
    span.tag("db.instance", database);
    span.tag("db.statement", sql);
}

}  // namespace

HostSession::HostSession(HostDatabase& db, ConnectionPool::Lease lease, bool transaction,
                         std::string requestId)
    : db_(db), lease_(std::move(lease)), transaction_(transaction), requestId_(std::move(requestId)) {
    if (transaction_) run("BEGIN", {});
}

HostSession::~HostSession() = default;  // the lease rolls back an open transaction, gives the session back

void HostSession::failedEarlier() {
    db_.unavailable(requestId_, "statement on a session whose connection was lost earlier in the request",
                    false);
}

DbResult HostSession::query(std::string_view sql, const std::vector<Json>& params) {
    if (failed_) failedEarlier();
    if (ended_) throw std::logic_error("database session used after its transaction ended");
    if (!lease_) lease_ = db_.leaseForRead(requestId_);  // a plain connection whose session was dropped
    return run(sql, params);
}

void HostSession::dropLease(const std::string& reason) {
    ConnectionPool& pool = lease_.pool();
    lease_.discard();
    lease_.release();
    db_.connectionLost(pool, requestId_, reason);
}

DbResult HostSession::run(std::string_view sql, const std::vector<Json>& params) {
    SpanScope span(spanName(sql), SpanKind::Client, "postgresql");
    describeStatement(span, db_.name(), sql);
    try {
        return runWithRetries(sql, params);
    } catch (const DbError& e) {
        span.error("SQLSTATE " + e.sqlState() + ": " + e.what());
        throw;
    } catch (const ApiError& e) {
        span.error(e.message());
        throw;
    }
}

DbResult HostSession::runWithRetries(std::string_view sql, const std::vector<Json>& params) {
    const int deadlineMs = lease_.pool().statementDeadlineMs();  // 0: no client-side deadline
    const Clock::time_point overall =
        Clock::now() + std::chrono::milliseconds(deadlineMs > 0 ? deadlineMs : kRetryBudgetMs);
    for (int attempt = 0;; ++attempt) {
        bool stateChanged = false;  // also when the statement fails: a lock may have been taken
        try {
            int timeoutMs = deadlineMs > 0 ? std::max(1, msLeft(overall)) : 0;
            DbResult result = pg::runStatement(lease_.conn(), sql, params, timeoutMs, &stateChanged);
            if (stateChanged) lease_.markDirty();
            started_ = true;
            return result;
        } catch (const pg::ConnectionLost& e) {
            using Stage = pg::ConnectionLost::Stage;
            // Safe to run again elsewhere only when nothing can have run: the statement never left
            // (BeforeSend), or it was the BEGIN of a transaction. Never after a deadline.
            bool safe = e.stage() == Stage::BeforeSend ||
                        (transaction_ && !started_ && e.stage() == Stage::AfterSend);
            bool retry = safe && !started_ && attempt < kMaxRetries && msLeft(overall) > 0;
            dropLease(e.what());
            failed_ = true;  // until a new lease is had
            if (!retry) db_.unavailable(requestId_, e.what(), false);
            lease_ = transaction_ ? db_.leasePrimary(requestId_) : db_.leaseForRead(requestId_);
            failed_ = false;
        } catch (const pg::ConnectionSpoiled& e) {
            started_ = true;
            dropLease(e.what());
            failed_ = transaction_;  // the transaction went with the connection
            throw DbError(e.sqlState(), e.what());
        } catch (const DbError&) {
            started_ = true;
            if (stateChanged && lease_) lease_.markDirty();
            throw;
        }
    }
}

void HostSession::finish(bool commit) {
    if (ended_) return;
    ended_ = true;
    if (failed_) {
        // The connection, and with it the transaction, was lost earlier: never report a commit.
        if (commit && transaction_)
            db_.unavailable(requestId_, "commit of a transaction whose connection was lost", false);
        return;
    }
    if (!lease_) return;
    if (!transaction_) {
        lease_.release();
        return;
    }
    if (!commit) {
        lease_.release();  // ROLLBACK under a short deadline, or the connection is dropped
        return;
    }
    if (pg::transactionFailed(lease_.conn())) {
        lease_.release();  // rolls back
        throw DbError("25P02", "the transaction was rolled back because a statement in it failed");
    }
    SpanScope span("COMMIT", SpanKind::Client, "postgresql");
    describeStatement(span, db_.name(), "COMMIT");
    try {
        pg::runStatement(lease_.conn(), "COMMIT", {}, lease_.pool().statementDeadlineMs());
    } catch (const pg::ConnectionLost& e) {
        span.error(e.what());
        dropLease(e.what());
        db_.logger().error(
            "database '%s': connection lost during COMMIT (request %s): %s; the outcome is unknown",
            db_.name(), requestId_, std::string(e.what()));
        throw DbError("08007",
                      "commit outcome unknown: the connection was lost during COMMIT, so the transaction "
                      "may or may not have been committed");
    } catch (const std::exception& e) {
        span.error(e.what());
        lease_.release();
        throw;
    } catch (...) {
        lease_.release();
        throw;
    }
    lease_.release();
}

void HostSession::finishAtScopeEnd() noexcept {
    ScopeEndFailure failure;
    failure.requestId = requestId_;
    try {
        finish(true);
        return;
    } catch (const ApiError& e) {
        failure.status = e.httpStatus();
        failure.code = e.code();
        failure.message = e.message();
    } catch (const DbError& e) {
        failure.message = "internal server error";
        try {
            db_.logger().error(
                "database '%s': the commit at the end of a DbTransaction scope failed (request %s, SQLSTATE "
                "%s): "
                "%s; the handler's reply is replaced by a 500",
                db_.name(), requestId_, e.sqlState(), std::string(e.what()));
        } catch (...) {
        }
    } catch (const std::exception& e) {
        failure.message = "internal server error";
    } catch (...) {
        failure.message = "internal server error";
    }
    try {
        recordScopeEndFailure(std::move(failure));
    } catch (...) {
    }
}

}  // namespace berth::server
