#include "pg_statement.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
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

// Waits until libpq has a whole result (or the connection fails, or the deadline passes).
void awaitResult(PGconn* conn, std::optional<Clock::time_point> deadline) {
    while (true) {
        if (PQconsumeInput(conn) == 0) throw ConnectionLost(trimmed(PQerrorMessage(conn)));
        if (PQisBusy(conn) == 0) return;
        int waitMs = -1;
        if (deadline) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
            if (left <= 0) throw ConnectionLost("no answer from the server before the statement deadline");
            waitMs = static_cast<int>(left);
        }
        pollfd fd{PQsocket(conn), POLLIN, 0};
        if (fd.fd < 0) throw ConnectionLost("the connection has no socket");
        int ready = ::poll(&fd, 1, waitMs);
        if (ready < 0 && errno != EINTR) throw ConnectionLost("poll() failed on the connection");
    }
}

// SQLSTATE classes that mean the connection (not the statement) failed: 08 connection exception,
// 57P01–57P03 the server is shutting down or starting up.
bool connectionState(const std::string& state) {
    return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
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

DbResult runStatement(pg_conn* conn, std::string_view sql, const std::vector<Json>& params, int timeoutMs) {
    std::optional<Clock::time_point> deadline;
    if (timeoutMs > 0) deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);

    std::vector<std::optional<std::string>> texts;
    texts.reserve(params.size());
    for (const Json& param : params) texts.push_back(encodeParam(param));
    std::vector<const char*> values;
    values.reserve(texts.size());
    for (const auto& text : texts) values.push_back(text ? text->c_str() : nullptr);

    std::string statement(sql);
    if (PQsendQueryParams(conn, statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0) == 0) {
        std::string message = trimmed(PQerrorMessage(conn));
        if (PQstatus(conn) == CONNECTION_BAD) throw ConnectionLost(message);
        throw DbError("", message);
    }

    ResultPtr kept;  // the first error, else the last result
    while (true) {
        awaitResult(conn, deadline);
        ResultPtr result(PQgetResult(conn));
        if (!result) break;
        bool isError = PQresultStatus(result.get()) == PGRES_FATAL_ERROR;
        if (!kept || (isError && PQresultStatus(kept.get()) != PGRES_FATAL_ERROR)) kept = std::move(result);
    }
    if (!kept) throw ConnectionLost(trimmed(PQerrorMessage(conn)));

    switch (PQresultStatus(kept.get())) {
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
            return readResult(kept.get());
        default:
            break;
    }
    const char* stateField = PQresultErrorField(kept.get(), PG_DIAG_SQLSTATE);
    std::string state = stateField ? stateField : "";
    std::string message = trimmed(PQresultErrorMessage(kept.get()));
    if (message.empty()) message = trimmed(PQerrorMessage(conn));
    if (PQstatus(conn) == CONNECTION_BAD || connectionState(state)) throw ConnectionLost(message);
    const char* primary = PQresultErrorField(kept.get(), PG_DIAG_MESSAGE_PRIMARY);
    throw DbError(state, primary ? primary : message);
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

}  // namespace berth::server::pg
