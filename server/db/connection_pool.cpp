#include "connection_pool.h"

#include <Poco/Data/PooledSessionImpl.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/SessionPool.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <set>

#include "pg_statement.h"

namespace berth::server {
namespace {

constexpr int kIdleSeconds = 60;  // idle sessions beyond pool_min are closed after this
constexpr int kStatementDeadlineMarginMs = 2000;
constexpr int kMaxStaleSkips = 64;  // idle sessions found dead in one acquire, at most

// libpq prints notices (and a FATAL that arrives while a session is idle) on stderr by default.
void noticeToLog(void*, const char* message) {
    Poco::Logger& log = Poco::Logger::get("berth.db");
    if (log.debug()) log.debug("PostgreSQL: %s", std::string(message));
}

// libpq's messages end in newlines and tabs; logs and stats want one line.
std::string oneLine(std::string text) {
    for (char& c : text)
        if (c == '\n' || c == '\t') c = ' ';
    while (!text.empty() && text.back() == ' ') text.pop_back();
    std::string out;
    for (char c : text)
        if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
    return out;
}

void registerConnector() {
    static std::once_flag once;
    std::call_once(once, [] { Poco::Data::PostgreSQL::Connector::registerConnector(); });
}

// PooledSessionImpl::access() is protected; this names it through a derived class, which C++
// allows, to reach the connector's own SessionImpl (and its PGconn) behind a pooled Session.
struct PooledAccess : Poco::Data::PooledSessionImpl {
    static Poco::Data::SessionImpl* inner(Poco::Data::PooledSessionImpl& pooled) {
        return (pooled.*(&PooledAccess::access))();
    }
};

Poco::Data::PostgreSQL::SessionImpl& postgresImpl(Poco::Data::Session& session) {
    Poco::Data::SessionImpl* impl = session.impl();
    if (auto* pooled = dynamic_cast<Poco::Data::PooledSessionImpl*>(impl))
        impl = PooledAccess::inner(*pooled);
    auto* postgres = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(impl);
    if (postgres == nullptr) throw Poco::IllegalStateException("not a PostgreSQL session");
    return *postgres;
}

}  // namespace

// SessionPool with our per-session setup; remembers which sessions were just made.
class ConnectionPool::Sessions : public Poco::Data::SessionPool {
  public:
    Sessions(const PoolSettings& settings)
        : SessionPool("postgresql", settings.connectionString, settings.min, settings.max, kIdleSeconds),
          statementTimeoutMs_(settings.statementTimeoutMs),
          schema_(settings.schema) {}

    // Returns true when `impl` was made by the get() that handed it out (and forgets it).
    bool takeFresh(Poco::Data::SessionImpl* impl) {
        std::lock_guard<std::mutex> lock(freshMutex_);
        return fresh_.erase(impl) > 0;
    }
    std::uint64_t created() const noexcept { return created_.load(); }

  protected:
    void customizeSession(Poco::Data::Session& session) override {
        PGconn* conn = postgresImpl(session).handle();
        PQsetNoticeProcessor(conn, noticeToLog, nullptr);
        // UTC and ISO so timestamps decode the same everywhere; statement_timeout bounds every
        // statement on the server side.
        std::string setup =
            "SET statement_timeout = " + std::to_string(statementTimeoutMs_) +
            "; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'";
        if (!schema_.empty()) setup += "; SET search_path TO \"" + schema_ + "\"";
        PGresult* result = PQexec(conn, setup.c_str());
        bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
        std::string error = ok ? "" : PQerrorMessage(conn);
        PQclear(result);
        if (!ok) throw Poco::Data::ConnectionFailedException("session setup failed: " + error);
        ++created_;
        std::lock_guard<std::mutex> lock(freshMutex_);
        fresh_.insert(session.impl());
    }

  private:
    int statementTimeoutMs_;
    std::string schema_;
    std::atomic<std::uint64_t> created_{0};
    std::mutex freshMutex_;
    std::set<Poco::Data::SessionImpl*> fresh_;
};

struct ConnectionPool::Lease::State {
    ConnectionPool* pool = nullptr;
    Poco::Data::Session session;
    PGconn* conn = nullptr;
    bool reused = false;

    explicit State(Poco::Data::Session s) : session(std::move(s)) {}
};

ConnectionPool::Lease::Lease() noexcept = default;
ConnectionPool::Lease::Lease(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
ConnectionPool::Lease::Lease(Lease&&) noexcept = default;
ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
    }
    return *this;
}
ConnectionPool::Lease::~Lease() {
    release();
}

pg_conn* ConnectionPool::Lease::conn() const noexcept {
    return state_ ? state_->conn : nullptr;
}
bool ConnectionPool::Lease::reused() const noexcept {
    return state_ && state_->reused;
}
ConnectionPool& ConnectionPool::Lease::pool() const noexcept {
    return *state_->pool;
}

void ConnectionPool::Lease::discard() noexcept {
    if (!state_) return;
    try {
        postgresImpl(state_->session).close();  // SessionPool drops a session that is not connected
    } catch (...) {
    }
    state_->conn = nullptr;  // freed by close()
}

void ConnectionPool::Lease::release() noexcept {
    if (!state_) return;
    std::unique_ptr<State> state = std::move(state_);
    // A session inside a transaction, or busy, must not serve the next caller.
    if (state->conn != nullptr && PQstatus(state->conn) == CONNECTION_OK &&
        PQtransactionStatus(state->conn) != PQTRANS_IDLE) {
        PGresult* result = PQexec(state->conn, "ROLLBACK");
        PQclear(result);
        if (!pg::connectionIdle(state->conn)) {
            state_ = std::move(state);
            discard();
            state = std::move(state_);
        }
    }
    ConnectionPool* pool = state->pool;
    try {
        state->session.close();  // back into the SessionPool (or dropped when not connected)
    } catch (...) {
    }
    state.reset();
    pool->giveBack();
}

ConnectionPool::ConnectionPool(PoolSettings settings) : settings_(std::move(settings)) {
    registerConnector();
    sessions_ = std::make_unique<Sessions>(settings_);
}

ConnectionPool::~ConnectionPool() {
    try {
        sessions_->shutdown();
    } catch (...) {
    }
}

void ConnectionPool::giveBack() noexcept {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        --inUse_;
    }
    freed_.notify_one();
}

void ConnectionPool::countError() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    ++errors_;
}

int ConnectionPool::statementDeadlineMs() const noexcept {
    return settings_.statementTimeoutMs > 0 ? settings_.statementTimeoutMs + kStatementDeadlineMarginMs : 0;
}

ConnectionPool::Lease ConnectionPool::acquire() {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (inUse_ >= settings_.max) {
            ++waiting_;
            bool got = freed_.wait_for(lock, std::chrono::milliseconds(settings_.waitMs),
                                       [this] { return inUse_ < settings_.max; });
            --waiting_;
            if (!got) {
                ++errors_;
                ++timeouts_;
                throw DatabaseUnavailable(settings_.label + ": no free connection within " +
                                              std::to_string(settings_.waitMs) + " ms (pool_max " +
                                              std::to_string(settings_.max) + ")",
                                          true);
            }
        }
        ++inUse_;
    }
    // From here on a slot is ours: give it back on every failure.
    for (int attempt = 0;; ++attempt) {
        std::unique_ptr<Lease::State> state;
        try {
            state = std::make_unique<Lease::State>(sessions_->get());
            state->pool = this;
            Poco::Data::PostgreSQL::SessionImpl& impl = postgresImpl(state->session);
            state->conn = impl.handle();
            state->reused = !sessions_->takeFresh(&impl);
        } catch (const Poco::Exception& e) {
            countError();
            giveBack();
            throw DatabaseUnavailable(settings_.label + ": " + oneLine(e.displayText()));
        } catch (const std::exception& e) {
            countError();
            giveBack();
            throw DatabaseUnavailable(settings_.label + ": " + oneLine(e.what()));
        }
        if (!state->reused || pg::idleConnectionAlive(state->conn) || attempt >= kMaxStaleSkips) {
            return Lease(std::move(state));
        }
        // Closed by the server while idle (a restart): drop it and take the next one. The slot
        // stays ours, so put the count back up before release() takes it down.
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++inUse_;
        }
        Lease stale(std::move(state));
        stale.discard();
    }
}

PoolStats ConnectionPool::stats() const {
    PoolStats s;
    s.endpoint = settings_.label;
    s.capacity = settings_.max;
    s.created = sessions_->created();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        s.inUse = inUse_;
        s.waiting = waiting_;
        s.errors = errors_;
        s.timeouts = timeouts_;
    }
    try {
        s.idle = sessions_->idle();
    } catch (...) {
    }
    return s;
}

}  // namespace berth::server
