#include "span_handover.h"

namespace berth::server {
namespace {

// A buffer's room: ~1,000 server spans. Fresh buffers are allocated at this size (no growth).
constexpr std::size_t kBufferBytes = 384 * 1024;
// Emptied buffers kept for reuse: a few flushes' worth; more would only hold memory.
constexpr std::size_t kSpares = 16;

}  // namespace

SpanHandover::SpanHandover(std::size_t limit) : limit_(limit) {
    writing_.text.prepare(kBufferBytes);
}

bool SpanHandover::nextBuffer(std::size_t maxBytes) noexcept {
    try {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            startBuffer();
        }
        writing_.text.prepare(maxBytes);  // a span bigger than a buffer: this one grows
        return true;
    } catch (...) {
        return false;
    }
}

void SpanHandover::startBuffer() {
    written_ += writing_.spans;
    if (writing_.spans != 0) full_.push_back(std::move(writing_));
    writing_ = Lines{};
    if (!spares_.empty()) {
        writing_.text = std::move(spares_.back());
        spares_.pop_back();
    }
    writing_.text.prepare(kBufferBytes);  // a fresh allocation when it had none: nothing to copy
}

void SpanHandover::handOver() noexcept {
    if (writing_.spans == 0 && full_.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        if (writing_.spans != 0) startBuffer();
        for (Lines& lines : full_) {
            handedSpans_.fetch_add(lines.spans, std::memory_order_relaxed);
            handed_.push_back(std::move(lines));
        }
        full_.clear();
        written_ = 0;
    } catch (...) {
        // Out of memory for the vectors: the lines stay with the writer and go with the next batch.
    }
}

void SpanHandover::take(std::vector<Lines>& out, bool writerStopped) {
    out.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    out.swap(handed_);
    handedSpans_.store(0, std::memory_order_relaxed);
    if (!writerStopped) return;
    for (Lines& lines : full_) out.push_back(std::move(lines));
    full_.clear();
    written_ = 0;
    if (writing_.spans != 0) out.push_back(std::move(writing_));
    writing_ = Lines{};
}

void SpanHandover::recycle(std::vector<Lines>& delivered) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Lines& lines : delivered) {
        if (spares_.size() >= kSpares || lines.text.capacity() < kBufferBytes) continue;
        lines.text.clear();
        try {
            spares_.push_back(std::move(lines.text));
        } catch (...) {
        }
    }
    delivered.clear();
}

std::size_t SpanHandover::waiting() const noexcept {
    return handedSpans_.load(std::memory_order_relaxed);
}

}  // namespace berth::server
