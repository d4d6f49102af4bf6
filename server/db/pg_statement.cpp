#include "pg_statement.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "pg_values.h"

namespace berth::server::pg {
namespace {

using Clock = std::chrono::steady_clock;

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string trimmed(const char* message) {
    std::string s = message ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string connectionMessage(PGconn* conn, const char* fallback) {
    std::string message = trimmed(PQerrorMessage(conn));
    return message.empty() ? fallback : message;
}

// Before sending: the connection must be up, and nothing may have arrived while it waited (the
// server's goodbye, 57P01 FATAL and EOF, is only noticed by a read of our own). Failing here means
// the statement never reached the server.
void checkBeforeSend(PGconn* conn) {
    using Stage = ConnectionLost::Stage;
    if (PQstatus(conn) != CONNECTION_OK)
        throw ConnectionLost(connectionMessage(conn, "the connection is closed"), Stage::BeforeSend);
    pollfd fd{PQsocket(conn), POLLIN, 0};
    if (fd.fd < 0) throw ConnectionLost("the connection has no socket", Stage::BeforeSend);
    for (int reads = 0; reads < 8; ++reads) {
        if (::poll(&fd, 1, 0) <= 0) break;
        if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK)
            throw ConnectionLost(connectionMessage(conn, "the server closed the connection"),
                                 Stage::BeforeSend);
        while (PGnotify* notify = PQnotifies(conn)) PQfreemem(notify);
    }
}

// Waits until libpq has a whole result (or the connection fails, or the deadline passes). The
// deadline is checked on every pass, whatever libpq says.
void awaitResult(PGconn* conn, std::optional<Clock::time_point> deadline) {
    while (true) {
        int waitMs = -1;
        if (deadline) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
            if (left <= 0)
                throw ConnectionLost("no answer from the server before the statement deadline",
                                     ConnectionLost::Stage::Deadline);
            waitMs = static_cast<int>(left);
        }
        if (PQconsumeInput(conn) == 0)
            throw ConnectionLost(connectionMessage(conn, "the connection failed"),
                                 ConnectionLost::Stage::AfterSend);
        if (PQisBusy(conn) == 0) return;
        pollfd fd{PQsocket(conn), POLLIN, 0};
        if (fd.fd < 0) throw ConnectionLost("the connection has no socket", ConnectionLost::Stage::AfterSend);
        int ready = ::poll(&fd, 1, waitMs);
        if (ready < 0 && errno != EINTR)
            throw ConnectionLost("poll() failed on the connection", ConnectionLost::Stage::AfterSend);
    }
}

// The server is shutting down or starting up (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now). Class 08 is not here: the server also reports 08P01 protocol_violation for a
// wrong parameter count on a healthy connection. A dead connection shows as CONNECTION_BAD.
bool shutdownState(const std::string& state) {
    return state == "57P01" || state == "57P02" || state == "57P03";
}

// Reads every result of what was sent; returns the first error, else the last result. COPY is
// refused: COPY FROM STDIN is ended at once (the server then reports an error and stays usable),
// COPY TO STDOUT would stream an unbounded answer, so the connection is given up.
ResultPtr collect(PGconn* conn, std::optional<Clock::time_point> deadline) {
    ResultPtr kept;
    bool copyRefused = false;
    while (true) {
        awaitResult(conn, deadline);
        ResultPtr result(PQgetResult(conn));
        if (!result) break;
        ExecStatusType status = PQresultStatus(result.get());
        if (status == PGRES_COPY_IN && !copyRefused) {
            copyRefused = true;
            if (PQputCopyEnd(conn, "COPY is not supported") < 0)
                throw ConnectionLost(connectionMessage(conn, "the connection failed"),
                                     ConnectionLost::Stage::AfterSend);
            continue;
        }
        if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH)
            throw ConnectionSpoiled("0A000", "COPY ... TO STDOUT is not supported through berth::Database");
        bool isError = status == PGRES_FATAL_ERROR;
        if (!kept || (isError && PQresultStatus(kept.get()) != PGRES_FATAL_ERROR)) kept = std::move(result);
    }
    if (copyRefused && PQstatus(conn) == CONNECTION_OK)
        throw DbError("0A000", "COPY ... FROM STDIN is not supported through berth::Database");
    if (!kept)
        throw ConnectionLost(connectionMessage(conn, "the connection failed"),
                             ConnectionLost::Stage::AfterSend);
    return kept;
}

// Throws for an error result: ConnectionLost when the connection is gone, else DbError.
void throwIfError(PGconn* conn, PGresult* result) {
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY) return;
    const char* stateField = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    std::string state = stateField ? stateField : "";
    std::string message = trimmed(PQresultErrorMessage(result));
    if (message.empty()) message = trimmed(PQerrorMessage(conn));
    if (PQstatus(conn) == CONNECTION_BAD || shutdownState(state))
        throw ConnectionLost(message, ConnectionLost::Stage::AfterSend);
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    throw DbError(state, primary ? primary : message);
}

std::optional<Clock::time_point> deadlineIn(int timeoutMs) {
    if (timeoutMs <= 0) return std::nullopt;
    return Clock::now() + std::chrono::milliseconds(timeoutMs);
}

bool startsWith(const char* text, const char* prefix) {
    return std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

// Statements whose effect outlives them in the session (and would reach the next borrower).
bool changesSessionByText(std::string_view sql) {
    std::string lower(sql);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.find("advisory") != std::string::npos || lower.find("set_config") != std::string::npos ||
           lower.find("temporary") != std::string::npos || lower.find(" temp ") != std::string::npos;
}

bool changesSessionByStatus(const char* cmdStatus) {
    for (const char* prefix : {"SET", "RESET", "LISTEN", "UNLISTEN", "PREPARE", "DECLARE", "DISCARD", "LOAD"})
        if (startsWith(cmdStatus, prefix)) return true;
    return false;
}

DbResult readResult(PGresult* result) {
    int rows = PQntuples(result);
    int columns = PQnfields(result);
    std::vector<DbColumn> names;
    names.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) names.push_back({PQfname(result, c), PQftype(result, c)});
    std::vector<Json> cells;
    cells.reserve(static_cast<std::size_t>(rows) * static_cast<std::size_t>(columns));
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c)
            cells.push_back(
                PQgetisnull(result, r, c)
                    ? Json(nullptr)
                    : decodeCell(names[static_cast<std::size_t>(c)].typeOid,
                                 std::string_view(PQgetvalue(result, r, c),
                                                  static_cast<std::size_t>(PQgetlength(result, r, c)))));
    std::int64_t affected = rows;
    const char* tuples = PQcmdTuples(result);
    if (tuples != nullptr && *tuples != '\0') affected = std::strtoll(tuples, nullptr, 10);
    return DbResult(std::move(names), std::move(cells), affected);
}

}  // namespace

DbResult runStatement(pg_conn* conn, std::string_view sql, const std::vector<Json>& params, int timeoutMs,
                      bool* stateChanged) {
    std::optional<Clock::time_point> deadline = deadlineIn(timeoutMs);

    // libpq takes C strings: a NUL would silently cut the SQL or a value short.
    if (sql.find('\0') != std::string_view::npos) throw DbError("22021", "the SQL text contains a NUL byte");
    std::vector<std::optional<std::string>> texts;
    texts.reserve(params.size());
    for (const Json& param : params) {
        texts.push_back(encodeParam(param));
        if (texts.back() && texts.back()->find('\0') != std::string::npos)
            throw DbError("22021", "parameter $" + std::to_string(texts.size()) +
                                       " contains a NUL byte, which PostgreSQL text cannot hold");
    }
    std::vector<const char*> values;
    values.reserve(texts.size());
    for (const auto& text : texts) values.push_back(text ? text->c_str() : nullptr);
    if (stateChanged != nullptr && changesSessionByText(sql)) *stateChanged = true;

    checkBeforeSend(conn);
    std::string statement(sql);
    if (PQsendQueryParams(conn, statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0) == 0) {
        std::string message = trimmed(PQerrorMessage(conn));
        if (PQstatus(conn) == CONNECTION_BAD)
            throw ConnectionLost(message, ConnectionLost::Stage::BeforeSend);
        throw DbError("", message);
    }

    ResultPtr kept = collect(conn, deadline);
    throwIfError(conn, kept.get());
    if (stateChanged != nullptr && changesSessionByStatus(PQcmdStatus(kept.get()))) *stateChanged = true;
    return readResult(kept.get());
}

void runScript(pg_conn* conn, const std::string& sql, int timeoutMs) {
    std::optional<Clock::time_point> deadline = deadlineIn(timeoutMs);
    checkBeforeSend(conn);
    if (PQsendQuery(conn, sql.c_str()) == 0) {
        std::string message = trimmed(PQerrorMessage(conn));
        if (PQstatus(conn) == CONNECTION_BAD)
            throw ConnectionLost(message, ConnectionLost::Stage::BeforeSend);
        throw DbError("", message);
    }
    ResultPtr kept = collect(conn, deadline);
    throwIfError(conn, kept.get());
}

bool idleConnectionAlive(pg_conn* conn) {
    if (PQstatus(conn) != CONNECTION_OK) return false;
    pollfd fd{PQsocket(conn), POLLIN, 0};
    if (fd.fd < 0) return false;
    // Something may have arrived while idle: a notice, or the server's goodbye (57P01 FATAL) and
    // then EOF, which libpq only notices on a read of its own — so read while there is input.
    for (int reads = 0; reads < 8; ++reads) {
        if (::poll(&fd, 1, 0) <= 0) break;  // nothing (more) arrived: as good as we can tell
        if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) return false;
        while (PGnotify* notify = PQnotifies(conn)) PQfreemem(notify);
    }
    return PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
}

bool connectionIdle(pg_conn* conn) {
    return PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
}

bool transactionFailed(pg_conn* conn) {
    return PQtransactionStatus(conn) == PQTRANS_INERROR;
}

bool inTransactionBlock(pg_conn* conn) {
    PGTransactionStatusType status = PQtransactionStatus(conn);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

}  // namespace berth::server::pg
