#include "connection_pool.h"

#include <Poco/Data/PooledSessionImpl.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/SessionPool.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>

#include "pg_statement.h"

namespace berth::server {
namespace {

constexpr int kIdleSeconds = 60;  // idle sessions beyond pool_min are closed after this
constexpr int kStatementDeadlineMarginMs = 2000;
constexpr int kMaxStaleSkips = 64;        // idle sessions found dead in one acquire, at most
constexpr int kReleaseDeadlineMs = 1000;  // ROLLBACK or reset on release; slower: drop the session
constexpr int kBackoffFirstMs = 250;      // no connect attempt this long after a failed one,
constexpr int kBackoffMaxMs = 4000;       // doubling with each failure in a row up to this

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
    Sessions(const PoolSettings& settings, const std::string& setupSql)
        : SessionPool("postgresql", settings.connectionString, settings.min, settings.max, kIdleSeconds),
          setupSql_(setupSql),
          setupDeadlineMs_(settings.connectTimeoutMs) {}

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
        try {
            pg::runScript(conn, setupSql_, setupDeadlineMs_);  // a server that stops answering: bounded
        } catch (const std::exception& e) {
            throw Poco::Data::ConnectionFailedException(std::string("session setup failed: ") + e.what());
        }
        ++created_;
        std::lock_guard<std::mutex> lock(freshMutex_);
        fresh_.insert(session.impl());
    }

  private:
    std::string setupSql_;
    int setupDeadlineMs_;
    std::atomic<std::uint64_t> created_{0};
    std::mutex freshMutex_;
    std::set<Poco::Data::SessionImpl*> fresh_;
};

struct ConnectionPool::Lease::State {
    ConnectionPool* pool = nullptr;
    Poco::Data::Session session;
    PGconn* conn = nullptr;
    bool reused = false;
    bool dirty = false;

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

void ConnectionPool::Lease::markDirty() noexcept {
    if (state_) state_->dirty = true;
}

void ConnectionPool::Lease::release() noexcept {
    if (!state_) return;
    ConnectionPool* pool = state_->pool;
    bool pooled = state_->conn != nullptr && pool->cleanForReuse(state_->conn, state_->dirty);
    if (!pooled) discard();
    std::unique_ptr<State> state = std::move(state_);
    try {
        state->session.close();  // back into the SessionPool (or dropped when not connected)
    } catch (...) {
    }
    state.reset();
    pool->giveBack(pooled);
}

bool ConnectionPool::cleanForReuse(pg_conn* conn, bool dirty) noexcept {
    if (PQstatus(conn) != CONNECTION_OK) return false;
    try {
        // Inside a transaction: ROLLBACK, which a healthy server answers at once. Busy (a statement
        // still running, its answer unread): drop it rather than wait.
        if (!pg::connectionIdle(conn)) {
            if (!pg::inTransactionBlock(conn)) return false;
            pg::runStatement(conn, "ROLLBACK", {}, kReleaseDeadlineMs);
            if (!pg::connectionIdle(conn)) return false;
        }
        // What the borrower changed for the session (SET, advisory locks, LISTEN, prepared
        // statements, temp tables) must not reach the next one: reset all of it, then our setup.
        if (dirty) pg::runScript(conn, resetSql_, kReleaseDeadlineMs);
        return pg::connectionIdle(conn);
    } catch (...) {
        return false;
    }
}

ConnectionPool::ConnectionPool(PoolSettings settings) : settings_(std::move(settings)) {
    registerConnector();
    // UTC and ISO so timestamps decode the same everywhere; statement_timeout bounds every
    // statement on the server side.
    setupSql_ = "SET statement_timeout = " + std::to_string(settings_.statementTimeoutMs) +
                "; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'";
    if (!settings_.schema.empty()) setupSql_ += "; SET search_path TO \"" + settings_.schema + "\"";
    // DISCARD ALL, spelled out: DISCARD ALL itself refuses to run in a multi-statement query.
    resetSql_ =
        "RESET ALL; SELECT pg_advisory_unlock_all(); UNLISTEN *; DEALLOCATE ALL; CLOSE ALL; DISCARD TEMP; "
        "DISCARD SEQUENCES; " +
        setupSql_;
    sessions_ = std::make_unique<Sessions>(settings_, setupSql_);
}

ConnectionPool::~ConnectionPool() {
    try {
        sessions_->shutdown();
    } catch (...) {
    }
}

void ConnectionPool::giveBack(bool pooled) noexcept {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        --inUse_;
        if (pooled) ++idle_;
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

ConnectionPool::Lease ConnectionPool::acquire(int waitMs) {
    Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(waitMs);
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (inUse_ >= settings_.max) {
            ++waiting_;
            bool got = freed_.wait_until(lock, deadline, [this] { return inUse_ < settings_.max; });
            --waiting_;
            if (!got) {
                ++errors_;
                ++timeouts_;
                throw DatabaseUnavailable(settings_.label + ": no free connection within " +
                                              std::to_string(waitMs) + " ms (pool_max " +
                                              std::to_string(settings_.max) + ")",
                                          true);
            }
        }
        ++inUse_;
    }
    // From here on a slot is ours: take() gives it back when it throws.
    for (int attempt = 0;; ++attempt) {
        std::unique_ptr<Lease::State> state = take(deadline, waitMs);
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

std::unique_ptr<ConnectionPool::Lease::State> ConnectionPool::take(Clock::time_point deadline, int waitMs) {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (getting_) {
            ++waiting_;
            bool got = gate_.wait_until(lock, deadline, [this] { return !getting_; });
            --waiting_;
            if (!got) {
                ++errors_;
                ++timeouts_;
                lock.unlock();
                giveBack(false);
                throw DatabaseUnavailable(settings_.label + ": no connection within " +
                                              std::to_string(waitMs) + " ms (a connect is in progress)",
                                          true);
            }
        }
        if (idle_ == 0 && Clock::now() < retryAfter_) {
            ++errors_;
            std::string reason = lastConnectError_;
            lock.unlock();
            giveBack(false);
            throw DatabaseUnavailable(settings_.label + ": " + reason + " (not retried yet)");
        }
        getting_ = true;
    }
    std::unique_ptr<Lease::State> state;
    std::string error;
    int idleNow = 0;
    try {
        state = std::make_unique<Lease::State>(sessions_->get());
        state->pool = this;
        Poco::Data::PostgreSQL::SessionImpl& impl = postgresImpl(state->session);
        state->conn = impl.handle();
        state->reused = !sessions_->takeFresh(&impl);
        idleNow = static_cast<int>(sessions_->idle());  // no one else is in get(): quick
    } catch (const Poco::Exception& e) {
        error = oneLine(e.displayText());
    } catch (const std::exception& e) {
        error = oneLine(e.what());
    }
    if (!error.empty()) state.reset();  // gives a session back, if the failure came after get()
    {
        std::lock_guard<std::mutex> lock(mutex_);
        getting_ = false;
        if (error.empty()) {
            idle_ = idleNow;
            if (!state->reused) {
                failuresInRow_ = 0;
                retryAfter_ = {};
            }
        } else {
            ++errors_;
            ++connectFailures_;
            ++failuresInRow_;
            int backoffMs = kBackoffFirstMs << std::min(failuresInRow_ - 1, 8);
            retryAfter_ = Clock::now() + std::chrono::milliseconds(std::min(backoffMs, kBackoffMaxMs));
            lastConnectError_ = error;
        }
    }
    gate_.notify_all();
    if (!error.empty()) {
        giveBack(false);
        throw DatabaseUnavailable(settings_.label + ": " + error);
    }
    return state;
}

std::string ConnectionPool::ping(int timeoutMs) {
    const Clock::time_point start = Clock::now();
    try {
        Lease lease = acquire(std::min(timeoutMs, settings_.waitMs));
        const auto spent =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
        try {
            pg::runScript(lease.conn(), "SELECT 1", std::max<int>(1, timeoutMs - static_cast<int>(spent)));
        } catch (const pg::ConnectionLost& e) {
            lease.discard();  // gone, or too slow to trust: the next borrower gets a new one
            return settings_.label + ": " + e.what();
        }
        return "";
    } catch (const DatabaseUnavailable& e) {
        return e.what();
    } catch (const std::exception& e) {
        return settings_.label + ": " + e.what();
    }
}

PoolStats ConnectionPool::stats() const {
    // Our counters only: SessionPool::idle() would wait for a connect in progress.
    PoolStats s;
    s.endpoint = settings_.label;
    s.capacity = settings_.max;
    s.created = sessions_->created();
    std::lock_guard<std::mutex> lock(mutex_);
    s.inUse = inUse_;
    s.idle = idle_;
    s.waiting = waiting_;
    s.errors = errors_;
    s.timeouts = timeouts_;
    s.connectFailures = connectFailures_;
    return s;
}

}  // namespace berth::server
