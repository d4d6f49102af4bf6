#pragma once
// Berth's HTTP/1.1 server: a few epoll I/O loops share one listening socket and parse with
// http_parser; handlers that may block run on a bounded worker pool, everything else (host
// endpoints, routing failures, routes marked non-blocking) is answered on the loop itself.
// An idle or slow client costs a file descriptor and a small buffer, never a thread.

#include <atomic>
#include <memory>
#include <vector>

#include "engine_settings.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class EventLoop;
class HttpPipeline;
class WorkerPool;

class HttpEngine {
  public:
    HttpEngine(EngineSettings settings, const HttpPipeline& pipeline, RequestObservers observers,
               Poco::Logger& logger);
    ~HttpEngine();
    HttpEngine(const HttpEngine&) = delete;
    HttpEngine& operator=(const HttpEngine&) = delete;

    /// Binds, listens and starts the loops; throws std::system_error naming address and port.
    void start();
    /// Graceful: stop accepting, let in-flight requests finish (up to shutdownTimeoutMs), close.
    /// Returns false when handlers were still running at the deadline: their clients were cut
    /// off, their threads left running, and the process must end without unloading plugins.
    bool stop();
    int boundPort() const noexcept { return boundPort_; }
    /// Open connections per I/O loop (for /metrics: they should be spread evenly).
    std::vector<std::size_t> loopConnections() const;

  private:
    EngineSettings settings_;
    const HttpPipeline& pipeline_;
    RequestObservers observers_;
    Poco::Logger& logger_;
    std::unique_ptr<WorkerPool> workers_;
    std::vector<std::unique_ptr<EventLoop>> loops_;
    std::atomic<std::size_t> openConnections_{0};
    int listenFd_ = -1;
    int boundPort_ = 0;
};

}  // namespace berth::server
