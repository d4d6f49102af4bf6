#include "http_engine.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Logger.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include "event_loop.h"
#include "worker_pool.h"

namespace berth::server {
namespace {

int listenOn(const std::string& address, int port, int& boundPort) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string service = std::to_string(port);
    int rc = getaddrinfo(address.c_str(), service.c_str(), &hints, &found);
    std::string where = address + ":" + service;
    if (rc != 0) throw std::system_error(EINVAL, std::generic_category(), where + ": " + gai_strerror(rc));
    int error = 0;
    for (addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
        int fd = ::socket(candidate->ai_family, candidate->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            error = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, candidate->ai_addr, candidate->ai_addrlen) == 0 && ::listen(fd, 4096) == 0) {
            sockaddr_storage bound{};
            socklen_t length = sizeof bound;
            getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
            boundPort = bound.ss_family == AF_INET6
                            ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
            freeaddrinfo(found);
            return fd;
        }
        error = errno;
        ::close(fd);
    }
    freeaddrinfo(found);
    throw std::system_error(error, std::generic_category(), "cannot listen on " + where);
}

}  // namespace

HttpEngine::HttpEngine(EngineSettings settings, const HttpPipeline& pipeline, RequestObservers observers,
                       Poco::Logger& logger)
    : settings_(std::move(settings)), pipeline_(pipeline), observers_(observers), logger_(logger) {}

HttpEngine::~HttpEngine() {
    stop();
}

void HttpEngine::start() {
    listenFd_ = listenOn(settings_.address, settings_.port, boundPort_);
    int loops = settings_.ioThreads > 0 ? settings_.ioThreads
                                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    workers_ = std::make_unique<WorkerPool>(settings_.workerThreads, settings_.maxQueued);
    std::vector<EventLoop*> siblings;
    for (int i = 0; i < loops; ++i) {
        loops_.push_back(std::make_unique<EventLoop>(settings_, pipeline_, *workers_, observers_,
                                                     openConnections_, logger_));
        siblings.push_back(loops_.back().get());
    }
    // All exist before any accepts: the first to start may already hand connections to the others.
    for (auto& loop : loops_) loop->setSiblings(siblings);
    for (auto& loop : loops_) loop->start(listenFd_);
}

std::vector<std::size_t> HttpEngine::loopConnections() const {
    std::vector<std::size_t> counts;
    for (const auto& loop : loops_) counts.push_back(loop->load());
    return counts;
}

bool HttpEngine::stop() {
    if (loops_.empty() && listenFd_ < 0) return true;
    std::int64_t deadline = EventLoop::steadyNowMs() + settings_.shutdownTimeoutMs;
    // Stop listening now: connections the kernel would otherwise keep completing into the
    // backlog would never be served, only reset at close.
    if (listenFd_ >= 0) ::shutdown(listenFd_, SHUT_RDWR);
    for (auto& loop : loops_) loop->beginShutdown(deadline);
    for (auto& loop : loops_) loop->join();
    // At least a moment: a handler that just finished may not have let go of its worker yet.
    auto steadyDeadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(
                                                                 100, deadline - EventLoop::steadyNowMs()));
    if (workers_ && !workers_->stopBy(steadyDeadline)) {
        // Handlers still hold connections and plugin code: leave everything as it is.
        logger_.error(
            "handlers still running after server.shutdown_timeout; their clients were disconnected");
        return false;
    }
    loops_.clear();
    workers_.reset();
    if (listenFd_ >= 0) ::close(listenFd_);
    listenFd_ = -1;
    return true;
}

}  // namespace berth::server
