#pragma once
// The keep-alive connections to one downstream service: at most `pool_size` open at once, idle
// ones reused newest first. A caller finding all in use waits up to `pool_wait_ms` (then
// PoolExhausted). An idle connection past `idle_timeout_ms`, or one the server has closed (its
// socket is readable while idle: the FIN, or bytes nobody asked for), is dropped instead of
// handed out; a connection whose call failed is dropped by its lease (Poco 1.11 has no pool of
// its own, pocoproject/poco#2151).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace berth::server {

class PoolExhausted : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class SessionPool {
  public:
    /// Makes an unconnected session (it connects on its first request).
    using Factory = std::function<std::unique_ptr<Poco::Net::HTTPClientSession>()>;

    SessionPool(std::size_t size, std::chrono::milliseconds wait, std::chrono::milliseconds idleTimeout,
                Factory factory);
    ~SessionPool();
    SessionPool(const SessionPool&) = delete;
    SessionPool& operator=(const SessionPool&) = delete;

    /// One session for one call. Dropped (closed) when the lease ends, unless keep() was called.
    class Lease {
      public:
        Lease(SessionPool& pool, std::unique_ptr<Poco::Net::HTTPClientSession> session, bool reused) noexcept;
        Lease(Lease&& other) noexcept;
        Lease& operator=(Lease&&) = delete;
        ~Lease();

        Poco::Net::HTTPClientSession& session() noexcept { return *session_; }
        /// True for a connection kept alive from an earlier call (the server may have closed it since).
        bool reused() const noexcept { return reused_; }
        /// The answer was read to its end and the connection may serve another call.
        void keep() noexcept { keep_ = true; }

      private:
        SessionPool* pool_;
        std::unique_ptr<Poco::Net::HTTPClientSession> session_;
        bool reused_;
        bool keep_ = false;
    };

    /// Throws PoolExhausted when no session is free within the wait.
    Lease acquire();

    struct Stats {
        std::size_t open = 0;  ///< sessions in use or idle
        std::size_t idle = 0;
        std::uint64_t created = 0;
        std::uint64_t reused = 0;
        std::uint64_t dropped = 0;  ///< closed: failed calls, stale or expired idle connections
    };
    Stats stats() const;

  private:
    struct Idle {
        std::unique_ptr<Poco::Net::HTTPClientSession> session;
        std::chrono::steady_clock::time_point since;
    };
    void giveBack(std::unique_ptr<Poco::Net::HTTPClientSession> session, bool keep) noexcept;

    const std::size_t size_;
    const std::chrono::milliseconds wait_;
    const std::chrono::milliseconds idleTimeout_;
    Factory factory_;
    mutable std::mutex mutex_;
    std::condition_variable freed_;
    std::vector<Idle> idle_;  // newest last
    std::size_t open_ = 0;
    Stats counters_;
};

}  // namespace berth::server
