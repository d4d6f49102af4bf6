#include "span_reporter.h"

#include <Poco/Logger.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>

#include "../observe/rotating_file.h"
#include "span_record.h"
#include "trace_clock.h"
#include "zipkin_sender.h"

namespace berth::server {
namespace {

constexpr auto kDropLogInterval = std::chrono::seconds(10);

}  // namespace

SpanReporter::SpanReporter(const TraceSettings& settings, Poco::Logger& logger)
    : settings_(settings),
      logger_(logger),
      queue_(settings.queueSize),
      encoder_(settings.serviceName),
      logEncoder_(settings.serviceName),
      handover_(settings.queueSize) {
    logEncoder_.setClockOffset(steadyToEpochOffsetUs());
    if (!settings_.file.empty())
        file_ = std::make_unique<RotatingFile>(settings_.file, settings_.fileRotateBytes, settings_.fileKeep);
    if (!settings_.zipkinHost.empty()) sender_ = std::make_unique<ZipkinSender>(settings_);
    backoffMs_ = settings_.backoffInitialMs;
}

SpanReporter::~SpanReporter() {
    stop();
}

void SpanReporter::start() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (thread_.joinable() || stopped_) return;
    thread_ = std::thread([this] { run(); });
}

void SpanReporter::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) return;
        stopped_ = stopping_ = true;
    }
    // From the stop request: a POST the thread is in counts against tracing.shutdown_timeout_ms.
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(settings_.shutdownTimeoutMs);
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    collect(true);
    closeBatch();
    deliverUntil(deadline);
    std::size_t left = 0;
    for (const Batch& batch : pending_) left += batch.spans;
    if (left > 0) {
        queue_.countDropped(left);
        undelivered_.fetch_sub(left, std::memory_order_relaxed);
        logger_.warning("tracing: %z span(s) not delivered to %s within tracing.shutdown_timeout_ms = %d",
                        left, settings_.zipkinUrl, settings_.shutdownTimeoutMs);
        pending_.clear();
    }
    reportDrops(true);
}

void SpanReporter::run() {
    // As the access log's writer: its wake-ups must not preempt an I/O loop mid-request.
    sched_param none{};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
    const auto interval = std::chrono::milliseconds(settings_.flushIntervalMs);
    Clock::time_point nextFlush = Clock::now() + interval;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        Clock::time_point wakeAt = nextFlush;
        if (!pending_.empty()) wakeAt = std::min(wakeAt, nextAttempt_);
        wake_.wait_until(lock, wakeAt, [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        Clock::time_point now = Clock::now();
        if (now >= nextFlush) {
            collect();
            closeBatch();
            nextFlush = now + interval;
        }
        deliver(Clock::now());
        lock.lock();
    }
}

void SpanReporter::collect(bool writerStopped) {
    // Always taken, also while the collector is behind: the file gets every span, and only the
    // collector's backlog is bounded (deliverLines drops and counts its excess). At stop this
    // leaves nothing in the queue or the hand-over uncounted.
    handover_.take(handedOver_, writerStopped);
    for (SpanHandover::Lines& lines : handedOver_) deliverLines(lines.text, lines.spans);
    handover_.recycle(handedOver_);
    if (queue_.take(taken_) != 0) {
        encoder_.setClockOffset(steadyToEpochOffsetUs());
        std::size_t encoded = 0;
        for (ByteBuffer& records : taken_) {
            const char* at = records.data();
            const char* const end = at + records.size();
            while (at < end) {
                const std::size_t before = lines_.size();
                at = encoder_.encode(at, end, lines_);
                if (lines_.size() == before) break;  // the rest of this buffer cannot be read
                ++encoded;
            }
            records.clear();
        }
        deliverLines(lines_, encoded);
    }
    reportDrops(false);
}

void SpanReporter::deliverLines(ByteBuffer& lines, std::size_t count) {
    if (lines.empty()) return;
    if (file_) {
        bool written = file_->write(lines.data(), lines.size());
        if (!written) reportFileError(count);
        // With a collector, it decides what counts as reported; the file is a copy.
        if (!sender_) {
            if (written)
                reported_.fetch_add(count, std::memory_order_relaxed);
            else
                queue_.countDropped(count);
        }
    }
    if (sender_) {
        // What waits for the collector stays within tracing.queue_size: the excess is dropped.
        const std::size_t undelivered = undelivered_.load(std::memory_order_relaxed);
        const std::size_t room = undelivered < queue_.limit() ? queue_.limit() - undelivered : 0;
        std::size_t batched = 0, excess = 0;
        const char* at = lines.data();
        const char* const end = at + lines.size();
        while (at < end) {
            const char* newline =
                static_cast<const char*>(std::memchr(at, '\n', static_cast<std::size_t>(end - at)));
            if (newline == nullptr) break;  // JSON escapes every newline inside a span: this ends one
            if (batched >= room) {
                ++excess;
                at = newline + 1;
                continue;
            }
            open_.body.append(open_.spans == 0 ? "[" : ",", 1);
            open_.body.append(at, static_cast<std::size_t>(newline - at));
            ++batched;
            if (++open_.spans >= settings_.batchSize) closeBatch();
            at = newline + 1;
        }
        undelivered_.fetch_add(batched, std::memory_order_relaxed);
        if (excess > 0) queue_.countDropped(excess);
    }
    lines.clear();
}

static_assert(sizeof(ServerSpan) == AccessRecord::kSpanBytes,
              "the access log copies server spans by this size");

void SpanReporter::writeLines(const ByteBuffer& batch, access_line::LineWriter& writer, ByteBuffer& lines) {
    if (std::size_t dropped = logEncoder_.encodeWithAccessLines(batch, writer, lines, handover_))
        queue_.countDropped(dropped);
}

void SpanReporter::onFlushEnd() noexcept {
    logEncoder_.setClockOffset(steadyToEpochOffsetUs());
    handover_.handOver();
}

void SpanReporter::closeBatch() {
    if (open_.spans == 0) return;
    open_.body.append("]", 1);
    pending_.push_back(std::move(open_));
    open_ = Batch{};
}

void SpanReporter::deliver(Clock::time_point now) {
    while (!pending_.empty() && now >= nextAttempt_) {
        if (!sendHead(now)) return;
        now = Clock::now();
    }
}

void SpanReporter::deliverUntil(Clock::time_point deadline) {
    while (!pending_.empty()) {
        Clock::time_point now = Clock::now();
        if (now >= deadline) return;
        if (now < nextAttempt_) {
            std::this_thread::sleep_for(std::min(nextAttempt_, deadline) - now);
            continue;
        }
        sendHead(now);
    }
}

bool SpanReporter::sendHead(Clock::time_point now) {
    Batch& batch = pending_.front();
    std::string error;
    if (sender_->post(batch.body.data(), batch.body.size(), error)) {
        reported_.fetch_add(batch.spans, std::memory_order_relaxed);
        undelivered_.fetch_sub(batch.spans, std::memory_order_relaxed);
        pending_.pop_front();
        attempts_ = 0;
        backoffMs_ = settings_.backoffInitialMs;
        nextAttempt_ = {};
        if (collectorFailing_) {
            collectorFailing_ = false;
            logger_.information("tracing: the collector at %s takes spans again", settings_.zipkinUrl);
        }
        return true;
    }
    ++attempts_;
    if (!collectorFailing_) {
        collectorFailing_ = true;
        logger_.warning(
            "tracing: POST to %s failed: %s; retrying with backoff (%d ms, up to %d ms, %d retries a batch)",
            settings_.zipkinUrl, error, backoffMs_, settings_.backoffMaxMs, settings_.retries);
    }
    if (attempts_ > settings_.retries) {
        // Given up: counted with the drops (and logged with them, rate-limited).
        queue_.countDropped(batch.spans);
        undelivered_.fetch_sub(batch.spans, std::memory_order_relaxed);
        pending_.pop_front();
        attempts_ = 0;
    }
    nextAttempt_ = now + std::chrono::milliseconds(backoffMs_);
    backoffMs_ = std::min(backoffMs_ * 2, settings_.backoffMaxMs);
    return false;
}

void SpanReporter::reportFileError(std::size_t count) {
    // A file that cannot be written stays so for a while: once per kDropLogInterval, with a count.
    fileErrorSpans_ += count;
    const Clock::time_point now = Clock::now();
    if (lastFileErrorLog_ != Clock::time_point{} && now - lastFileErrorLog_ < kDropLogInterval) return;
    logger_.error("tracing: cannot append to %s: %z span(s) not written since the last report",
                  settings_.file, fileErrorSpans_);
    fileErrorSpans_ = 0;
    lastFileErrorLog_ = now;
}

void SpanReporter::reportDrops(bool force) {
    const std::uint64_t dropped = queue_.dropped();
    if (dropped == droppedLogged_) return;
    const Clock::time_point now = Clock::now();
    if (!force && now - lastDropLog_ < kDropLogInterval) return;
    logger_.warning(
        "tracing: %s span(s) dropped since the last report, %s in all (the queue was full: "
        "tracing.queue_size = "
        "%z per I/O thread and for the others; or the collector did not take them)",
        std::to_string(dropped - droppedLogged_), std::to_string(dropped), queue_.limit());
    droppedLogged_ = dropped;
    lastDropLog_ = now;
}

}  // namespace berth::server
