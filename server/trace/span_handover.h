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
    /// Writes spans: the room of the current buffer is taken once and committed once (commit(),
    /// before handOver()), not a ByteBuffer call per span.
    class Writer {
      public:
        explicit Writer(SpanHandover& handover) noexcept : handover_(handover) { take(); }
        /// Where to write one span of at most `maxBytes` (then add() its end); null when out of
        /// memory.
        char* room(std::size_t maxBytes) noexcept {
            if (static_cast<std::size_t>(limit_ - at_) >= maxBytes) return at_;
            commit();
            const bool started = handover_.nextBuffer(maxBytes);
            take();
            return started ? at_ : nullptr;
        }
        /// The span written at room() ends at `end`.
        void add(char* end) noexcept {
            at_ = end;
            ++spans_;
        }
        void commit() noexcept {
            ByteBuffer& text = handover_.writing_.text;
            text.commit(static_cast<std::size_t>(at_ - (text.data() + text.size())));
            handover_.writing_.spans += spans_;
            spans_ = 0;
        }

      private:
        void take() noexcept {
            ByteBuffer& text = handover_.writing_.text;
            at_ = text.data() + text.size();
            limit_ = at_ + text.spare();
        }

        SpanHandover& handover_;
        char* at_ = nullptr;
        char* limit_ = nullptr;
        std::size_t spans_ = 0;
    };
    /// True when `limit` spans wait already: the next one is to be dropped.
    bool full() const noexcept { return roomForSpans() == 0; }
    /// How many more spans may be written before full() (taking spans only adds to it).
    std::size_t roomForSpans() const noexcept {
        const std::size_t waiting = written_ + writing_.spans + handedSpans_.load(std::memory_order_relaxed);
        return waiting < limit_ ? limit_ - waiting : 0;
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
    /// Starts a buffer with room for `maxBytes`; false when out of memory.
    bool nextBuffer(std::size_t maxBytes) noexcept;

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
