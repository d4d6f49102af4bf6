#include "span_queue.h"

#include "../observe/spin_lock.h"

#include <algorithm>
#include <cstring>

namespace berth::server {

class alignas(64) SpanQueue::Shard {  // a cache line of its own: loops do not share one
  public:
    SpinLock mutex;                         // a loop's shard: held for one append or one swap
    std::mutex sharedMutex;                 // the shared shard's instead (see lockShard)
    ByteBuffer pending;                     // under `mutex`
    std::size_t count = 0;                  // under `mutex`; spans in `pending`
    std::atomic<std::size_t> published{0};  // `count`, readable without the lock (queued())
};

SpanQueue::SpanQueue(std::size_t limit) : limit_(limit) {
    shared_ = createShard();
}

SpanQueue::~SpanQueue() = default;

SpanQueue::Shard* SpanQueue::createShard() {
    auto shard = std::make_unique<Shard>();
    std::lock_guard<std::mutex> lock(shardsMutex_);
    shards_.push_back(std::move(shard));
    return shards_.back().get();
}

// The shared shard takes every worker's DB/Redis/HTTP/logged spans, and an append may grow its
// buffer: contended and held across an allocation, a spin lock would burn the waiters' CPU, so it
// gets a mutex. A loop's shard is only ever contended by the reporter's swap: the cheap spin lock.
template <typename Body>
auto SpanQueue::lockShard(Shard* shard, Body&& body) {
    if (shard == shared_) {
        std::lock_guard<std::mutex> lock(shard->sharedMutex);
        return body();
    }
    std::lock_guard<SpinLock> lock(shard->mutex);
    return body();
}

bool SpanQueue::push(Shard* shard, const void* head, std::size_t headLength, std::string_view tail) noexcept {
    return lockShard(shard, [&] { return pushLocked(shard, head, headLength, tail); });
}

bool SpanQueue::pushLocked(Shard* shard, const void* head, std::size_t headLength,
                           std::string_view tail) noexcept {
    const std::size_t length = headLength + tail.size();
    if (shard->count >= limit_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    char* out;
    try {
        out = shard->pending.prepare(length);
    } catch (...) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    std::memcpy(out, head, headLength);
    if (!tail.empty()) std::memcpy(out + headLength, tail.data(), tail.size());
    shard->pending.commit(length);
    shard->published.store(++shard->count, std::memory_order_relaxed);
    return true;
}

bool SpanQueue::pushServer(Shard* shard, const ServerSpan& span, const ServerSpanFields& fields) noexcept {
    QueuedServerSpan queued;
    queued.method = fields.method;
    queued.traceHexLength = static_cast<std::uint8_t>(std::min<std::size_t>(fields.traceId.size(), 32));
    queued.status = fields.status;
    queued.pathLength = static_cast<std::uint16_t>(std::min<std::size_t>(fields.path.size(), 65535));
    queued.durationUs = fields.durationUs;
    queued.span = span;
    if (queued.traceHexLength != 0)
        std::memcpy(queued.traceHex, fields.traceId.data(), queued.traceHexLength);
    return push(shard, &queued, sizeof queued, fields.path.substr(0, queued.pathLength));
}

std::size_t SpanQueue::take(std::vector<ByteBuffer>& into) {
    std::vector<Shard*> shards;
    {
        std::lock_guard<std::mutex> lock(shardsMutex_);
        for (auto& shard : shards_) shards.push_back(shard.get());
    }
    if (into.size() < shards.size()) into.resize(shards.size());
    std::size_t taken = 0;
    for (std::size_t i = 0; i < shards.size(); ++i) {
        ByteBuffer& buffer = into[i];
        buffer.clear();  // its room goes back to the shard: the loop rarely grows its buffer
        Shard* shard = shards[i];
        taken += lockShard(shard, [&] {
            buffer.swap(shard->pending);
            const std::size_t count = shard->count;
            shard->count = 0;
            shard->published.store(0, std::memory_order_relaxed);
            return count;
        });
    }
    return taken;
}

std::size_t SpanQueue::queued() const noexcept {
    std::size_t total = 0;
    // shards_ only grows before serving starts (one shard per loop), so reading it unlocked is safe.
    for (const auto& shard : shards_) total += shard->published.load(std::memory_order_relaxed);
    return total;
}

}  // namespace berth::server
