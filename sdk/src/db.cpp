#include "berth/db.h"

#include <exception>

namespace berth {
inline namespace v1 {

// Out of line so the type_info lives once, in libberth-sdk, and plugins catch what the host throws.
DbError::DbError(std::string sqlState, const std::string& message)
    : std::runtime_error(message), sqlState_(std::move(sqlState)) {}
DbError::~DbError() = default;

DbSession::~DbSession() = default;

void DbSession::finishAtScopeEnd() noexcept {
    try {
        finish(true);
    } catch (...) {
    }
}
Database::~Database() = default;

// --- DbResult ------------------------------------------------------------------------------

DbResult::DbResult(std::vector<DbColumn> columns, std::vector<Json> cells, std::int64_t affectedRows)
    : columns_(std::move(columns)), cells_(std::move(cells)), affectedRows_(affectedRows) {}

std::size_t DbResult::columnIndex(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < columns_.size(); ++i)
        if (columns_[i].name == name) return i;
    return npos;
}

DbRow DbResult::operator[](std::size_t row) const& {
    if (row >= size())
        throw std::out_of_range("row " + std::to_string(row) + " of a result with " + std::to_string(size()) +
                                " rows");
    return DbRow(*this, row);
}

const Json& DbResult::cell(std::size_t row, std::size_t column) const& {
    if (row >= size() || column >= columns_.size())
        throw std::out_of_range("cell (" + std::to_string(row) + ", " + std::to_string(column) +
                                ") of a result with " + std::to_string(size()) + " rows and " +
                                std::to_string(columns_.size()) + " columns");
    return cells_[row * columns_.size() + column];
}

Json DbResult::toJson() const {
    Json::Array rows;
    rows.reserve(size());
    for (std::size_t row = 0; row < size(); ++row) rows.push_back(DbRow(*this, row).toJson());
    return Json(std::move(rows));
}

const Json& DbRow::operator[](std::string_view column) const {
    std::size_t index = result_->columnIndex(column);
    if (index == DbResult::npos)
        throw std::out_of_range("no column '" + std::string(column) + "' in the result");
    return result_->cell(index_, index);
}

const Json& DbRow::at(std::size_t column) const {
    return result_->cell(index_, column);
}

std::size_t DbRow::size() const noexcept {
    return result_->columns().size();
}

Json DbRow::toJson() const {
    Json::Object object;
    const std::vector<DbColumn>& columns = result_->columns();
    object.reserve(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i)
        object.emplace_back(columns[i].name, result_->cell(index_, i));
    return Json(std::move(object));
}

// --- Handles ---------------------------------------------------------------------------------

namespace {

DbSession& live(const std::unique_ptr<DbSession>& session) {
    if (!session)
        throw std::logic_error("database handle used after it was moved from or its transaction ended");
    return *session;
}

}  // namespace

DbConnection::DbConnection(std::unique_ptr<DbSession> session) noexcept : session_(std::move(session)) {}
DbConnection::DbConnection(DbConnection&&) noexcept = default;
DbConnection& DbConnection::operator=(DbConnection&&) noexcept = default;
DbConnection::~DbConnection() = default;

DbResult DbConnection::query(std::string_view sql, const std::vector<Json>& params) {
    return live(session_).query(sql, params);
}

std::int64_t DbConnection::execute(std::string_view sql, const std::vector<Json>& params) {
    return live(session_).query(sql, params).affectedRows();
}

DbTransaction::DbTransaction(std::unique_ptr<DbSession> session) noexcept
    : session_(std::move(session)), uncaught_(std::uncaught_exceptions()) {}

DbTransaction::DbTransaction(DbTransaction&& other) noexcept
    : session_(std::move(other.session_)), uncaught_(other.uncaught_) {}

DbTransaction::~DbTransaction() {
    if (!session_) return;
    std::unique_ptr<DbSession> session = std::move(session_);
    if (std::uncaught_exceptions() > uncaught_) {
        try {
            session->finish(false);
        } catch (...) {  // unwinding already: the connection is dropped, the server rolls back
        }
        return;
    }
    session->finishAtScopeEnd();  // noexcept: a failure is reported by the host
}

DbResult DbTransaction::query(std::string_view sql, const std::vector<Json>& params) {
    return live(session_).query(sql, params);
}

std::int64_t DbTransaction::execute(std::string_view sql, const std::vector<Json>& params) {
    return live(session_).query(sql, params).affectedRows();
}

void DbTransaction::commit() {
    std::unique_ptr<DbSession> session = std::move(session_);
    live(session).finish(true);
}

void DbTransaction::rollback() {
    std::unique_ptr<DbSession> session = std::move(session_);
    live(session).finish(false);
}

}  // namespace v1
}  // namespace berth
