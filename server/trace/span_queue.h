#pragma once
// Where finished spans wait for the reporter: one shard per I/O loop (its own spin lock, never
// contended but for the reporter's swap) and one shared by every other thread (a mutex). Each shard holds
// at most `limit` spans; a span that finds its shard full is dropped and counted — a request
// never waits for the reporter, and a collector that is down never grows memory.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "../http/byte_buffer.h"
#include "span_record.h"

namespace berth::server {

class SpanQueue {
  public:
    class Shard;

    /// `limit`: spans one shard holds (tracing.queue_size).
    explicit SpanQueue(std::size_t limit);
    ~SpanQueue();
    SpanQueue(const SpanQueue&) = delete;
    SpanQueue& operator=(const SpanQueue&) = delete;

    /// A shard for one producing thread (an I/O loop); valid as long as the queue.
    Shard* createShard();
    /// The shard of every thread without its own (workers, plugin threads); locked per span.
    Shard* sharedShard() noexcept { return shared_; }

    /// Queues one span: `head` (a record of span_record.h) followed by `tail`. False, and counted
    /// as dropped, when the shard is full (or memory is short).
    bool push(Shard* shard, const void* head, std::size_t headLength, std::string_view tail) noexcept;

    /// Queues a server span without an access log record to ride on (span_record.h): the
    /// record's fields go with it.
    bool pushServer(Shard* shard, const ServerSpan& span, const ServerSpanFields& fields) noexcept;

    /// Swaps every shard's records out: `into` gets one buffer per shard (reused across calls:
    /// clear them after use, their room is handed back to the shards). Returns the spans taken.
    std::size_t take(std::vector<ByteBuffer>& into);

    /// Spans waiting in the shards now.
    std::size_t queued() const noexcept;
    /// Spans dropped because their shard was full, since the start.
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    /// Counts spans dropped elsewhere (a batch the collector never took) with the others.
    void countDropped(std::uint64_t spans) noexcept { dropped_.fetch_add(spans, std::memory_order_relaxed); }
    std::size_t limit() const noexcept { return limit_; }

  private:
    template <typename Body>
    auto lockShard(Shard* shard, Body&& body);
    bool pushLocked(Shard* shard, const void* head, std::size_t headLength, std::string_view tail) noexcept;

    const std::size_t limit_;
    std::mutex shardsMutex_;
    std::vector<std::unique_ptr<Shard>> shards_;
    Shard* shared_ = nullptr;
    std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace berth::server
