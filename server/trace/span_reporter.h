#pragma once
// The tracing reporter: a background thread that takes the finished spans out of the queue every
// tracing.flush_interval_ms (and the server spans the access log's writer already turned into
// JSON, when they ride on the access log), writes them as Zipkin v2 JSON, and delivers them — POSTed in
// batches of tracing.batch_size to tracing.zipkin.url (a failed batch is retried with exponential backoff,
// then given up and counted), and/or appended to tracing.file as JSON lines, one span per line.
// The file gets every span; while the collector is behind, what waits for it is bounded by
// tracing.queue_size and the excess is dropped and counted: memory stays bounded whatever the
// collector does, and requests never wait.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../http/byte_buffer.h"
#include "../observe/access_log.h"
#include "span_handover.h"
#include "span_queue.h"
#include "trace_settings.h"
#include "zipkin_encoder.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class RotatingFile;
class ZipkinSender;

class SpanReporter : public AccessLog::SpanListener {
  public:
    /// Opens tracing.file; throws std::system_error when it cannot.
    SpanReporter(const TraceSettings& settings, Poco::Logger& logger);
    ~SpanReporter();
    SpanReporter(const SpanReporter&) = delete;
    SpanReporter& operator=(const SpanReporter&) = delete;

    SpanQueue& queue() noexcept { return queue_; }

    void start();
    /// Delivers what is queued (for at most tracing.shutdown_timeout_ms; what is left then is
    /// counted as dropped), then ends the thread. Idempotent.
    void stop();

    // For /metrics (any thread):
    /// Spans waiting: in the queue, and taken but not yet delivered.
    std::size_t queued() const noexcept {
        return queue_.queued() + handover_.waiting() + undelivered_.load(std::memory_order_relaxed);
    }
    /// Spans never reported: the queue was full, the collector did not take their batch after
    /// every retry, or (without a collector) the file refused them.
    std::uint64_t dropped() const noexcept { return queue_.dropped(); }
    /// Spans the collector took (or, without a collector, written to the file).
    std::uint64_t reported() const noexcept { return reported_.load(std::memory_order_relaxed); }

    // AccessLog::SpanListener, on the access log's writer thread: the server spans of requests
    // that have an access log record are written as JSON there and handed over once per flush.
    void writeLines(const ByteBuffer& batch, access_line::LineWriter& writer, ByteBuffer& lines) override;
    void onFlushEnd() noexcept override;
    void onSpansDropped(std::size_t count) noexcept override { queue_.countDropped(count); }

  private:
    using Clock = std::chrono::steady_clock;
    struct Batch {
        ByteBuffer body;  // a JSON array
        std::size_t spans = 0;
    };

    void run();
    /// Takes the spans and writes them out; `writerStopped`:
    /// also what the access log's writer has not handed over (it has stopped).
    void collect(bool writerStopped = false);
    /// `count` JSON lines to the file and/or into batches for the collector; clears `lines`.
    void deliverLines(ByteBuffer& lines, std::size_t count);
    void closeBatch();
    /// Sends pending batches whose time has come; with a deadline, keeps trying (no waiting for the
    /// backoff beyond it) until it passes.
    void deliver(Clock::time_point now);
    void deliverUntil(Clock::time_point deadline);
    bool sendHead(Clock::time_point now);
    void reportDrops(bool force);
    void reportFileError(std::size_t count);

    const TraceSettings settings_;
    Poco::Logger& logger_;
    SpanQueue queue_;
    ZipkinEncoder encoder_;
    std::unique_ptr<RotatingFile> file_;
    std::unique_ptr<ZipkinSender> sender_;

    // The access log writer's encoder (writeLines, onFlushEnd), and what it hands over.
    ZipkinEncoder logEncoder_;
    SpanHandover handover_;

    // The reporter thread's (then stop()'s, after the join):
    std::vector<ByteBuffer> taken_;
    std::vector<SpanHandover::Lines> handedOver_;
    ByteBuffer lines_;  // one collect's spans as JSON lines
    Batch open_;        // the batch being filled
    std::deque<Batch> pending_;
    int attempts_ = 0;  // failed attempts of pending_.front()
    int backoffMs_ = 0;
    Clock::time_point nextAttempt_{};
    std::uint64_t droppedLogged_ = 0;
    Clock::time_point lastDropLog_{};
    bool collectorFailing_ = false;
    std::size_t fileErrorSpans_ = 0;  // not written since the last error logged
    Clock::time_point lastFileErrorLog_{};

    std::atomic<std::size_t> undelivered_{0};
    std::atomic<std::uint64_t> reported_{0};
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool stopped_ = false;
};

}  // namespace berth::server
