#pragma once
// One endpoint's connections (a primary or one replica): a Poco::Data::SessionPool with the
// PostgreSQL connector, plus what it lacks — waiting up to pool_wait_ms for a free session
// (SessionPool throws at once when full), per-session setup (statement_timeout, UTC, ISO dates),
// dropping sessions the server closed while they were idle, resetting sessions a borrower changed
// (SET, advisory locks, LISTEN, …) before the next one gets them, and statistics.
//
// Poco's SessionPool::get() holds the pool's mutex while it connects (PQconnectdb, up to
// connect_timeout_s) and putBack()/idle() take the same mutex. So only one thread at a time calls
// get() (the others wait for it within pool_wait_ms), and stats() reads our own counters only.
// Poco 1.11 also leaks the PGconn of every failed connect (SessionHandle only PQfinish-es a
// CONNECTION_OK handle): after a failed connect the pool answers "unavailable" without trying
// again for a backoff period (250 ms, doubling up to 4 s; one probe at a time; reset by a success).
// Poco's Data headers stay in the .cpp.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

struct pg_conn;

namespace berth::server {

/// No connection could be had: the server is down or unreachable, or the pool stayed full.
class DatabaseUnavailable : public std::runtime_error {
  public:
    DatabaseUnavailable(std::string reason, bool poolTimeout = false)
        : std::runtime_error(std::move(reason)), poolTimeout_(poolTimeout) {}
    bool poolTimeout() const noexcept { return poolTimeout_; }

  private:
    bool poolTimeout_;
};

struct PoolStats {
    std::string endpoint;  // "primary 127.0.0.1:5432", "replica 10.0.0.2:5432"
    int capacity = 0;      // pool_max
    int inUse = 0;
    int idle = 0;
    int waiting = 0;                    // callers waiting for a free session now
    std::uint64_t created = 0;          // sessions opened since start
    std::uint64_t errors = 0;           // failed connects, lost connections, pool timeouts
    std::uint64_t timeouts = 0;         // of which pool timeouts
    std::uint64_t connectFailures = 0;  // connects that failed (each one a call into libpq)
};

struct PoolSettings {
    std::string label;  // for logs and stats
    std::string connectionString;
    int min = 1;
    int max = 16;
    int waitMs = 2000;
    int statementTimeoutMs = 30000;
    int connectTimeoutMs = 5000;  // also bounds the session setup
    std::string schema;           // search_path; "" = the server's default (checked by database_settings)
};

class ConnectionPool {
  public:
    explicit ConnectionPool(PoolSettings settings);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool&) = delete;
    ConnectionPool& operator=(const ConnectionPool&) = delete;

    /// A session taken from the pool; given back (or dropped, when discarded or broken) on destruction.
    class Lease {
      public:
        Lease() noexcept;
        Lease(Lease&&) noexcept;
        Lease& operator=(Lease&&) noexcept;
        ~Lease();
        explicit operator bool() const noexcept { return state_ != nullptr; }
        pg_conn* conn() const noexcept;
        /// True when the session had served before (it may have died while idle).
        bool reused() const noexcept;
        ConnectionPool& pool() const noexcept;
        /// Closes the connection, so the pool drops the session instead of reusing it.
        void discard() noexcept;
        /// The borrower changed session state (SET, advisory lock, LISTEN, …): reset it on release.
        void markDirty() noexcept;
        void release() noexcept;

      private:
        friend class ConnectionPool;
        struct State;
        explicit Lease(std::unique_ptr<State> state) noexcept;
        std::unique_ptr<State> state_;
    };

    /// Throws DatabaseUnavailable.
    Lease acquire() { return acquire(settings_.waitMs); }
    /// Waits at most `waitMs` (instead of pool_wait_ms) for a free connection.
    Lease acquire(int waitMs);
    /// For /ready: a connection, then `SELECT 1` answered within `timeoutMs`. "" when it was, else
    /// why not. A connect in progress is bounded by connect_timeout_s, not by `timeoutMs`.
    std::string ping(int timeoutMs);
    void countError() noexcept;
    PoolStats stats() const;
    const PoolSettings& settings() const noexcept { return settings_; }
    /// A client-side deadline for one statement: the server's statement_timeout plus a margin,
    /// so a server that stops answering cannot hang a request; 0 = none.
    int statementDeadlineMs() const noexcept;

  private:
    class Sessions;
    using Clock = std::chrono::steady_clock;
    void giveBack(bool pooled) noexcept;
    std::unique_ptr<Lease::State> take(Clock::time_point deadline, int waitMs);
    /// Runs on release: ROLLBACK of an open transaction and the reset of a dirty session, each
    /// under a short deadline; false when the session must be dropped instead.
    bool cleanForReuse(pg_conn* conn, bool dirty) noexcept;

    PoolSettings settings_;
    std::string setupSql_;  // run on every new session
    std::string resetSql_;  // run on release of a dirty session
    std::unique_ptr<Sessions> sessions_;
    mutable std::mutex mutex_;
    std::condition_variable freed_;  // a slot was given back
    std::condition_variable gate_;   // the thread in SessionPool::get() left it
    int inUse_ = 0;
    int idle_ = 0;  // as SessionPool counted them after the last get(), plus sessions given back since
    int waiting_ = 0;
    bool getting_ = false;  // a thread is inside SessionPool::get() (maybe connecting)
    std::uint64_t errors_ = 0;
    std::uint64_t timeouts_ = 0;
    std::uint64_t connectFailures_ = 0;
    int failuresInRow_ = 0;
    Clock::time_point retryAfter_{};  // no connect attempt before this, after a failure
    std::string lastConnectError_;
};

}  // namespace berth::server
