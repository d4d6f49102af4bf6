#pragma once
// JSON lines of spans written on one thread (the access log's writer) and delivered by another
// (the reporter): whole buffers change hands under a lock held for a few pointer moves, and never
// get copied or grown — a full buffer is put aside and a fresh one started. Copying or growing
// them would cost more than writing the spans did.

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

#include "../http/byte_buffer.h"

namespace berth::server {

class SpanHandover {
  public:
    struct Lines {
        ByteBuffer text;  // JSON lines, each ending in '\n'
        std::size_t spans = 0;
    };

    /// `limit`: spans written but not yet taken, beyond which full() says so (tracing.queue_size).
    explicit SpanHandover(std::size_t limit);

    // The writing thread:
    /// The buffer to append one span of at most `maxBytes` to (count it with added()).
    ByteBuffer& room(std::size_t maxBytes) {
        if (writing_.text.capacity() - writing_.text.size() < maxBytes) nextBuffer();
        return writing_.text;
    }
    void added() noexcept { ++writing_.spans; }
    /// True when `limit` spans wait already: the next one is to be dropped.
    bool full() const noexcept {
        return written_ + writing_.spans + handedSpans_.load(std::memory_order_relaxed) >= limit_;
    }
    /// Hands what was written over (the end of a batch).
    void handOver() noexcept;

    // The delivering thread:
    /// Moves what was handed over into `out` (cleared first). With `writerStopped`, also what the
    /// writer has not handed over yet (call it only once the writing thread is done).
    void take(std::vector<Lines>& out, bool writerStopped = false);
    /// Gives delivered buffers back for reuse (and clears `delivered`).
    void recycle(std::vector<Lines>& delivered) noexcept;
    /// Spans handed over and not taken yet.
    std::size_t waiting() const noexcept;

  private:
    /// Puts the writer's current buffer aside and starts another (under mutex_).
    void startBuffer();
    void nextBuffer();

    const std::size_t limit_;
    mutable std::mutex mutex_;
    // The writer's; `written_` (its spans not handed over) is read by full() only from that thread.
    Lines writing_;
    std::vector<Lines> full_;  // the writer's filled buffers, not handed over yet
    std::size_t written_ = 0;
    // Under mutex_ (handedSpans_ is also read without it):
    std::vector<Lines> handed_;
    std::atomic<std::size_t> handedSpans_{0};
    std::vector<ByteBuffer> spares_;
};

}  // namespace berth::server
