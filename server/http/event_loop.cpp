#include "event_loop.h"

#include <Poco/Logger.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

#include "../observe/request_metrics.h"
#include "connection.h"
#include "envelope.h"
#include "pipeline.h"
#include "response_writer.h"

namespace berth::server {
namespace {

// Enough for the connections a loop serves at once under load; more would only hold memory.
constexpr std::size_t kPooledBuffers = 256;
constexpr std::size_t kMaxPooledCapacity = 256 * 1024;
constexpr int kSweepIntervalMs = 1000;
// EPOLLOUT is added only while a connection's output is blocked: registered for good, it would
// wake the loop each time the kernel frees send space, about once per request.
constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;

// The answer to a connection over server.max_connections, sent without reading its request.
const std::string& busyAnswer() {
    static const std::string answer = [] {
        std::string body;
        writeErrorEnvelope(body, 503, "server busy", Json("too many connections"), "");
        HttpResponse response;
        response.status = 503;
        response.contentType = "application/json";
        response.body = std::move(body);
        std::string bytes;
        writeResponse(bytes, response, false, false);
        return bytes;
    }();
    return answer;
}

}  // namespace

std::int64_t EventLoop::steadyNowMs() noexcept {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

EventLoop::EventLoop(const EngineSettings& settings, const HttpPipeline& pipeline, WorkerPool& workers,
                     RequestObservers observers, std::atomic<std::size_t>& openConnections,
                     Poco::Logger& logger)
    : settings_(settings),
      pipeline_(pipeline),
      workers_(workers),
      observers_(observers),
      openConnections_(openConnections),
      logger_(logger) {
    if (observers_.accessLog != nullptr) accessShard_ = observers_.accessLog->createShard();
    if (observers_.metrics != nullptr) metricsShard_ = observers_.metrics->createShard();
    if (observers_.spans != nullptr) spanShard_ = observers_.spans->createShard();
    const HttpLimits& limits = pipeline_.limits();
    parserLimits_ = {limits.maxHeaderBytes, limits.maxHeaderCount, limits.maxBodyBytes};
    epollFd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epollFd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = &wakeFd_;
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &event);
    nowMs_ = steadyNowMs();
}

EventLoop::~EventLoop() {
    join();
    for (Connection* connection : connections_) {
        openConnections_.fetch_sub(1, std::memory_order_relaxed);
        delete connection;
    }
    closeAdopted();
    if (wakeFd_ >= 0) ::close(wakeFd_);
    if (epollFd_ >= 0) ::close(epollFd_);
}

void EventLoop::start(int listenFd) {
    listenFd_ = listenFd;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLEXCLUSIVE;
    event.data.ptr = &listenFd_;
    if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, listenFd_, &event) != 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl(listen)");
    thread_ = std::thread([this] { run(); });
}

void EventLoop::beginShutdown(std::int64_t deadlineMs) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        shutdownRequested_ = true;
        shutdownDeadlineMs_ = deadlineMs;
    }
    wake();
}

void EventLoop::join() {
    if (thread_.joinable()) thread_.join();
}

void EventLoop::wake() {
    std::uint64_t one = 1;
    ssize_t ignored = ::write(wakeFd_, &one, sizeof one);
    (void)ignored;
}

void EventLoop::handlerDone(Connection* connection) {
    bool first;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        first = completed_.empty() && adopted_.empty();
        completed_.push_back(connection);
    }
    if (first) wake();  // later ones ride on the same wake-up
}

ByteBuffer EventLoop::acquireInput() {
    if (inputPool_.empty()) return ByteBuffer();
    ByteBuffer buffer = std::move(inputPool_.back());
    inputPool_.pop_back();
    return buffer;
}

void EventLoop::releaseInput(ByteBuffer&& buffer) {
    ByteBuffer taken(std::move(buffer));
    if (taken.capacity() == 0 || taken.capacity() > kMaxPooledCapacity || inputPool_.size() >= kPooledBuffers)
        return;  // freed here
    taken.clear();
    inputPool_.push_back(std::move(taken));
}

ByteBuffer EventLoop::acquireOutput() {
    if (outputPool_.empty()) return ByteBuffer();
    ByteBuffer buffer = std::move(outputPool_.back());
    outputPool_.pop_back();
    return buffer;
}

void EventLoop::releaseOutput(ByteBuffer&& buffer) {
    ByteBuffer taken(std::move(buffer));
    if (taken.capacity() == 0 || taken.capacity() > kMaxPooledCapacity ||
        outputPool_.size() >= kPooledBuffers)
        return;  // freed here
    taken.clear();
    outputPool_.push_back(std::move(taken));
}

void EventLoop::observe(const AccessRecord& record, std::size_t metricsSeries) {
    if (metricsShard_ != nullptr) metricsShard_->record(metricsSeries, record.status, record.durationUs);
    if (accessShard_ != nullptr)
        observers_.accessLog->record(accessShard_, record);
    else if (spanShard_ != nullptr && record.span.size() == sizeof(ServerSpan))
        queueServerSpan(record);
}

void EventLoop::queueServerSpan(const AccessRecord& record) noexcept {
    ServerSpan span;
    std::memcpy(&span, record.span.data(), sizeof span);
    observers_.spans->pushServer(spanShard_, span, spanFieldsOf(record));
}

void EventLoop::noteRefusal(int status, const std::string& detail) {
    ++refusalsSinceLog_;
    if (nowMs_ - lastRefusalLogMs_ < 1000) return;
    logger_.warning("refused %s request(s) since the last report; latest: %d %s",
                    std::to_string(refusalsSinceLog_), status, detail);
    lastRefusalLogMs_ = nowMs_;
    refusalsSinceLog_ = 0;
}

void EventLoop::run() {
    epoll_event events[256];
    lastSweepMs_ = nowMs_ = steadyNowMs();
    while (true) {
        // Connections waiting for another turn must not wait for an event that will not come.
        int ready = epoll_wait(epollFd_, events, 256, scheduled_.empty() ? kSweepIntervalMs : 0);
        nowMs_ = steadyNowMs();
        for (int i = 0; i < ready; ++i) {
            void* tag = events[i].data.ptr;
            if (tag == &listenFd_) {
                acceptAll();
                continue;
            }
            if (tag == &wakeFd_) {
                std::uint64_t count;
                ssize_t ignored = ::read(wakeFd_, &count, sizeof count);
                (void)ignored;
                drainCompletions();
                continue;
            }
            auto* connection = static_cast<Connection*>(tag);
            if (connection->finished()) continue;
            std::uint32_t flags = events[i].events;
            if (flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                connection->onReadable((flags & (EPOLLRDHUP | EPOLLHUP)) != 0);
            if ((flags & EPOLLOUT) && !connection->finished()) connection->onWritable();
        }
        runScheduled();
        if (nowMs_ - lastSweepMs_ >= kSweepIntervalMs) sweep();
        reap();
        if (draining_) {
            bool busy = false;
            for (Connection* connection : connections_) busy = busy || !connection->finished();
            if (!busy) break;
            if (nowMs_ >= shutdownDeadlineMs_) {
                // Past server.shutdown_timeout: clients of handlers still running are cut off.
                for (Connection* connection : connections_)
                    if (connection->inHandler()) connection->abandonForShutdown();
                break;
            }
        }
    }
    closeAdopted();  // and from now on adopt() closes what other loops still hand over
}

void EventLoop::watchWritable(Connection* connection, bool watch) {
    epoll_event event{};
    event.events = watch ? kReadEvents | EPOLLOUT : kReadEvents;
    event.data.ptr = connection;
    epoll_ctl(epollFd_, EPOLL_CTL_MOD, connection->fd(), &event);
}

void EventLoop::unwatch(int fd) noexcept {
    epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::schedule(Connection* connection) {
    if (connection->scheduled) return;
    connection->scheduled = true;
    scheduled_.push_back(connection);
}

void EventLoop::runScheduled() {
    if (scheduled_.empty()) return;
    std::vector<Connection*> turn;
    turn.swap(scheduled_);
    for (Connection* connection : turn) {
        connection->scheduled = false;
        if (!connection->finished()) connection->onReadable();
    }
}

void EventLoop::acceptAll() {
    for (int accepted = 0; accepting_ && accepted < 64; ++accepted) {
        int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EINVAL) {
                // The engine is stopping and has shut the listening socket down, which leaves it
                // readable for good: without this, the loop spins on it until its own wake-up.
                epoll_ctl(epollFd_, EPOLL_CTL_DEL, listenFd_, nullptr);
                accepting_ = false;
                return;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // The listening socket stays readable: stop watching it until the next sweep
                // instead of spinning on accept().
                logger_.error("accept: %s; not accepting for a second", std::string(std::strerror(errno)));
                epoll_ctl(epollFd_, EPOLL_CTL_DEL, listenFd_, nullptr);
                acceptPaused_ = true;
            }
            return;
        }
        // Counted before the check, so that loops accepting at once cannot overshoot together.
        if (openConnections_.fetch_add(1, std::memory_order_relaxed) >= settings_.maxConnections) {
            openConnections_.fetch_sub(1, std::memory_order_relaxed);
            const std::string& busy = busyAnswer();
            ssize_t ignored = ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)ignored;
            ::close(fd);
            noteRefusal(503, "server.max_connections reached");
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        EventLoop* target = leastLoaded();
        target->load_.fetch_add(1, std::memory_order_relaxed);
        if (target == this)
            addConnection(fd);
        else
            target->adopt(fd);
    }
}

EventLoop* EventLoop::leastLoaded() noexcept {
    EventLoop* best = this;
    std::size_t fewest = load_.load(std::memory_order_relaxed);
    for (EventLoop* loop : siblings_) {
        std::size_t load = loop->load_.load(std::memory_order_relaxed);
        if (load < fewest) {
            best = loop;
            fewest = load;
        }
    }
    return best;
}

void EventLoop::adopt(int fd) {
    bool first;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) {  // shutting down: nobody would serve it
            ::close(fd);
            load_.fetch_sub(1, std::memory_order_relaxed);
            openConnections_.fetch_sub(1, std::memory_order_relaxed);
            return;
        }
        first = completed_.empty() && adopted_.empty();
        adopted_.push_back(fd);
    }
    if (first) wake();
}

void EventLoop::closeAdopted() {
    std::vector<int> adopted;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopped_ = true;
        adopted.swap(adopted_);
    }
    for (int fd : adopted) {
        ::close(fd);
        load_.fetch_sub(1, std::memory_order_relaxed);
        openConnections_.fetch_sub(1, std::memory_order_relaxed);
    }
}

void EventLoop::addConnection(int fd) {
    auto* connection = new Connection(*this, fd);
    epoll_event event{};
    event.events = kReadEvents;
    event.data.ptr = connection;
    if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &event) != 0) {
        delete connection;  // closes fd
        load_.fetch_sub(1, std::memory_order_relaxed);
        openConnections_.fetch_sub(1, std::memory_order_relaxed);
        return;
    }
    connection->loopSlot = connections_.size();
    connections_.push_back(connection);
    if (draining_) connection->drain();
}

void EventLoop::drainCompletions() {
    std::vector<Connection*> done;
    std::vector<int> adopted;
    bool shutdown;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        done.swap(completed_);
        adopted.swap(adopted_);
        shutdown = shutdownRequested_ && !draining_;
    }
    for (Connection* connection : done) connection->onHandlerDone();
    for (int fd : adopted) addConnection(fd);
    if (shutdown) {
        draining_ = true;
        accepting_ = false;
        epoll_ctl(epollFd_, EPOLL_CTL_DEL, listenFd_, nullptr);
        for (Connection* connection : connections_) connection->drain();
    }
}

void EventLoop::sweep() {
    lastSweepMs_ = nowMs_;
    if (acceptPaused_ && accepting_) {
        epoll_event event{};
        event.events = EPOLLIN | EPOLLEXCLUSIVE;
        event.data.ptr = &listenFd_;
        if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, listenFd_, &event) == 0) acceptPaused_ = false;
    }
    for (Connection* connection : connections_) {
        if (draining_) connection->drain();
        connection->checkTimeouts(nowMs_);
    }
}

void EventLoop::reap() {
    if (retired_.empty()) return;
    // A connection closed by the sweep may still be waiting for a turn: forget it there first.
    scheduled_.erase(std::remove_if(scheduled_.begin(), scheduled_.end(),
                                    [](Connection* connection) { return connection->finished(); }),
                     scheduled_.end());
    for (Connection* connection : retired_) {
        std::size_t slot = connection->loopSlot;
        connections_[slot] = connections_.back();
        connections_[slot]->loopSlot = slot;
        connections_.pop_back();
        openConnections_.fetch_sub(1, std::memory_order_relaxed);
        load_.fetch_sub(1, std::memory_order_relaxed);
        delete connection;
    }
    retired_.clear();
}

}  // namespace berth::server
