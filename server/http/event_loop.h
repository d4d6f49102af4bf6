#pragma once
// One I/O thread: an epoll set with the shared listening socket (EPOLLEXCLUSIVE, so one loop
// wakes per new connection), its connections (edge-triggered), and an eventfd through which
// workers hand back finished requests.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../observe/access_log.h"
#include "../observe/request_metrics.h"
#include "../trace/span_queue.h"
#include "byte_buffer.h"
#include "engine_settings.h"
#include "request_parser.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class Connection;
class HttpPipeline;
class WorkerPool;

class EventLoop {
  public:
    EventLoop(const EngineSettings& settings, const HttpPipeline& pipeline, WorkerPool& workers,
              RequestObservers observers, std::atomic<std::size_t>& openConnections, Poco::Logger& logger);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /// Starts the thread serving `listenFd` (owned by the engine).
    void start(int listenFd);
    /// From another thread: stop accepting, finish in-flight requests, close idle connections;
    /// the thread ends when no connection is left or `deadline` (steady ms) passes.
    void beginShutdown(std::int64_t deadlineMs);
    void join();

    // For connections, on this loop's thread:
    const HttpPipeline& pipeline() const noexcept { return pipeline_; }
    WorkerPool& workers() noexcept { return workers_; }
    const EngineSettings& settings() const noexcept { return settings_; }
    const ParserLimits& parserLimits() const noexcept { return parserLimits_; }
    std::int64_t nowMs() const noexcept { return nowMs_; }
    /// Buffers are pooled per loop so that only busy connections hold one.
    ByteBuffer acquireInput();
    void releaseInput(ByteBuffer&& buffer);
    ByteBuffer acquireOutput();
    void releaseOutput(ByteBuffer&& buffer);
    /// Metrics, access log and server span (`record.span`) for one answered request. The span
    /// rides on the access log record when there is an access log, else it goes to the span queue.
    void observe(const AccessRecord& record, std::size_t metricsSeries);
    /// The record's server span, without an access log to ride on.
    void queueServerSpan(const AccessRecord& record) noexcept;
    /// This loop's metrics counters, or nullptr when metrics are off.
    RequestMetrics::Shard* metrics() noexcept { return metricsShard_; }

    /// A refused request (400, 408, 413, 431, 503, …): counted and logged, at most once a second.
    void noteRefusal(int status, const std::string& detail);

    /// The connection is closed and no worker holds it: free it after this round of events.
    void retire(Connection* connection) { retired_.push_back(connection); }
    /// Also wake for the connection when its socket can take more output (or stop doing so).
    void watchWritable(Connection* connection, bool watch);
    /// Removes a connection's descriptor from epoll; call before closing it. close() alone is not
    /// enough when a plugin forked: the child's copy keeps the registration alive, and events for
    /// it would carry a pointer to a deleted Connection.
    void unwatch(int fd) noexcept;
    /// Give the connection another turn after this round of events (it has input left to serve).
    void schedule(Connection* connection);

    /// From a worker thread: the handler of `connection` has finished.
    void handlerDone(Connection* connection);

    /// The loops connections are spread over (this one included); set before start().
    void setSiblings(std::vector<EventLoop*> siblings) { siblings_ = std::move(siblings); }
    /// From another loop: serve this accepted connection.
    void adopt(int fd);
    /// Connections this loop serves (or is about to); any thread.
    std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }

    static std::int64_t steadyNowMs() noexcept;

  private:
    void run();
    void acceptAll();
    /// The loop with the fewest connections, this one on a tie.
    EventLoop* leastLoaded() noexcept;
    /// Registers an accepted descriptor already counted in load_ and openConnections_.
    void addConnection(int fd);
    /// Marks the loop stopped and closes the descriptors handed to it and never registered.
    void closeAdopted();
    void drainCompletions();
    void sweep();
    void reap();
    void runScheduled();
    void wake();

    const EngineSettings& settings_;
    const HttpPipeline& pipeline_;
    WorkerPool& workers_;
    RequestObservers observers_;
    ParserLimits parserLimits_;
    AccessLog::Shard* accessShard_ = nullptr;
    RequestMetrics::Shard* metricsShard_ = nullptr;
    SpanQueue::Shard* spanShard_ = nullptr;
    std::atomic<std::size_t>& openConnections_;
    Poco::Logger& logger_;

    int epollFd_ = -1;
    int wakeFd_ = -1;
    int listenFd_ = -1;
    std::thread thread_;
    std::int64_t nowMs_ = 0;
    std::int64_t lastSweepMs_ = 0;

    std::vector<Connection*> connections_;
    std::vector<EventLoop*> siblings_;
    // Connections this loop serves plus those handed to it and not yet registered. Whichever loop
    // accepts a connection gives it to the least loaded one: the kernel wakes one waiting loop
    // per burst of connects, and that loop would otherwise take the whole burst (measured: all
    // 64 of wrk's connections on one loop in one run of four, 94k instead of 120k requests/s).
    alignas(64) std::atomic<std::size_t> load_{0};  // written by other loops: a line of its own
    std::vector<Connection*> retired_;
    std::vector<Connection*> scheduled_;
    bool acceptPaused_ = false;  // out of file descriptors: retried at the next sweep
    std::vector<ByteBuffer> inputPool_;
    std::vector<ByteBuffer> outputPool_;

    std::mutex mutex_;  // guards the fields below, shared with workers and the engine
    std::vector<Connection*> completed_;
    std::vector<int> adopted_;  // accepted by another loop for this one
    bool stopped_ = false;      // run() has ended: adopt() closes what it is given
    bool shutdownRequested_ = false;
    std::int64_t shutdownDeadlineMs_ = 0;

    bool accepting_ = true;
    bool draining_ = false;
    std::int64_t lastRefusalLogMs_ = 0;
    std::uint64_t refusalsSinceLog_ = 0;
};

}  // namespace berth::server
