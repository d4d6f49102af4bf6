#include "session_pool.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>

namespace berth::server {
namespace {

// An idle keep-alive connection has nothing to read: a readable socket means the server closed
// it (or broke the protocol), and a request sent on it would fail.
bool stillOpen(Poco::Net::HTTPClientSession& session) {
    try {
        return session.connected() &&
               !session.socket().poll(Poco::Timespan(0),
                                      Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR);
    } catch (const Poco::Exception&) {
        return false;
    }
}

}  // namespace

SessionPool::SessionPool(std::size_t size, std::chrono::milliseconds wait,
                         std::chrono::milliseconds idleTimeout, Factory factory)
    : size_(size), wait_(wait), idleTimeout_(idleTimeout), factory_(std::move(factory)) {}

SessionPool::~SessionPool() = default;

SessionPool::Lease::Lease(SessionPool& pool, std::unique_ptr<Poco::Net::HTTPClientSession> session,
                          bool reused) noexcept
    : pool_(&pool), session_(std::move(session)), reused_(reused) {}

SessionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), session_(std::move(other.session_)), reused_(other.reused_), keep_(other.keep_) {}

SessionPool::Lease::~Lease() {
    if (session_) pool_->giveBack(std::move(session_), keep_);
}

SessionPool::Lease SessionPool::acquire() {
    const auto deadline = std::chrono::steady_clock::now() + wait_;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        while (!idle_.empty()) {
            Idle candidate = std::move(idle_.back());
            idle_.pop_back();
            bool fresh = std::chrono::steady_clock::now() - candidate.since < idleTimeout_;
            lock.unlock();
            if (fresh && stillOpen(*candidate.session)) {
                lock.lock();
                ++counters_.reused;
                return Lease(*this, std::move(candidate.session), true);
            }
            candidate.session.reset();  // closes the socket, outside the lock
            lock.lock();
            --open_;
            ++counters_.dropped;
        }
        if (open_ < size_) {
            ++open_;
            ++counters_.created;
            lock.unlock();
            try {
                return Lease(*this, factory_(), false);
            } catch (...) {
                giveBack(nullptr, false);
                throw;
            }
        }
        if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= size_)
            throw PoolExhausted("all " + std::to_string(size_) + " connections are in use (waited " +
                                std::to_string(wait_.count()) + " ms)");
    }
}

void SessionPool::giveBack(std::unique_ptr<Poco::Net::HTTPClientSession> session, bool keep) noexcept {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (keep && session) {
            idle_.push_back({std::move(session), std::chrono::steady_clock::now()});
        } else {
            --open_;
            if (session) ++counters_.dropped;
        }
    }
    freed_.notify_one();
    // A dropped session is closed here, by its destructor, after the lock is released.
}

SessionPool::Stats SessionPool::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    Stats s = counters_;
    s.open = open_;
    s.idle = idle_.size();
    return s;
}

}  // namespace berth::server
