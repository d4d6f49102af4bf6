#include "access_log.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "../http/byte_buffer.h"
#include "access_line.h"
#include "spin_lock.h"

namespace berth::server {
namespace {

using access_line::kSameAsRequestId;
using access_line::StoredRecord;

constexpr std::size_t kMaxPendingBytes = 8 * 1024 * 1024;
// Short enough that each batch is formatted in well under a millisecond at 100k+ requests/s: a
// longer batch is a burst of CPU that delays the I/O loops sharing the cores (it showed in p99).
constexpr auto kFlushInterval = std::chrono::milliseconds(50);
// A shard's buffers start with this much room (~3,000 records), allocated by the writer, so a
// loop does not grow (and copy) its buffer on its first busy flushes. Nothing is zero-filled:
// the pages cost memory only once records reach them.
constexpr std::size_t kInitialShardBytes = 256 * 1024;
// The same for the formatted lines of one flush.
constexpr std::size_t kInitialLinesBytes = 1024 * 1024;
// Buffers are kept across flushes (growing them again each flush was ~440 instructions a
// request); one bigger than this that a flush used less than a quarter of is given back, so a
// burst does not pin its memory for good.
constexpr std::size_t kKeptCapacity = 4 * 1024 * 1024;

// Room for `length` bytes in the empty `buffer`: a new allocation when it lacks the room (growing
// would copy its dead bytes), and a fresh smaller one when it has grown past kKeptCapacity and
// `length` is under a quarter of it.
void prepareEmpty(ByteBuffer& buffer, std::size_t length) {
    const std::size_t capacity = buffer.capacity();
    if (capacity >= length && (capacity <= kKeptCapacity || length >= capacity / 4)) return;
    ByteBuffer fresh;
    fresh.prepare(length);
    buffer.swap(fresh);
}

}  // namespace

class alignas(64) AccessLog::Shard {  // its own cache line: loops do not share one
  public:
    SpinLock mutex;      // held for one append (the loop) or one swap (the writer)
    ByteBuffer pending;  // under `mutex`: the loop appends, the writer swaps it out
    // The writer's own: the empty buffer given back at the next swap, and how much the last
    // swap took, which is how much room it gets first.
    ByteBuffer spare;
    std::size_t lastBatch = 0;
};

// State of the thread that formats and writes (the writer thread, then stop() after joining
// it): buffers and caches kept from one flush to the next.
class AccessLog::Writer {
  public:
    std::vector<Shard*> shards;  // the list of one flush
    access_line::LineWriter lineWriter;
    ByteBuffer lines;  // one flush's lines, written with one write()
    std::size_t lastLines = kInitialLinesBytes;
};

AccessLog::AccessLog(const std::string& path, std::size_t rotateBytes, int keep)
    : file_(std::make_unique<RotatingFile>(path, rotateBytes, keep)),
      writerState_(std::make_unique<Writer>()) {}

AccessLog::~AccessLog() {
    stop();
}

AccessLog::Shard* AccessLog::createShard() {
    auto shard = std::make_unique<Shard>();
    shard->pending.prepare(kInitialShardBytes);  // the loop's first buffer (see kInitialShardBytes)
    std::lock_guard<std::mutex> lock(shardsMutex_);
    shards_.push_back(std::move(shard));
    return shards_.back().get();
}

void AccessLog::record(Shard* shard, const AccessRecord& record) noexcept {
    StoredRecord stored{record.unixMs,
                        record.durationUs,
                        record.bytes,
                        record.plugin,
                        record.route,
                        record.status,
                        record.method,
                        static_cast<std::uint8_t>(std::min<std::size_t>(record.requestId.size(), 255)),
                        static_cast<std::uint16_t>(std::min<std::size_t>(record.path.size(), 65535)),
                        record.traceId.data() == record.requestId.data() && !record.traceId.empty() &&
                                record.traceId.size() == record.requestId.size()
                            ? kSameAsRequestId
                            : static_cast<std::uint8_t>(std::min<std::size_t>(record.traceId.size(), 254)),
                        static_cast<std::uint8_t>(std::min<std::size_t>(record.span.size(), 255))};
    const std::size_t traceIdBytes = stored.traceIdLength == kSameAsRequestId ? 0 : stored.traceIdLength;
    const std::size_t length =
        sizeof stored + stored.requestIdLength + stored.pathLength + traceIdBytes + stored.spanLength;
    std::unique_lock<SpinLock> lock(shard->mutex);
    // One room check (the writer hands back buffers already big enough), then a few copies.
    char* out = nullptr;
    if (shard->pending.size() <= kMaxPendingBytes) {
        try {
            out = shard->pending.prepare(length);
        } catch (...) {
        }
    }
    if (out == nullptr) {
        lock.unlock();
        dropped_.fetch_add(1, std::memory_order_relaxed);
        if (stored.spanLength == AccessRecord::kSpanBytes)  // the tracer's span goes with it
            if (SpanListener* spans = spanListener_.load()) spans->onSpansDropped(1);
        return;
    }
    std::memcpy(out, &stored, sizeof stored);
    out += sizeof stored;
    // Generated ids are 32 bytes: copied with two fixed moves rather than a loop. An empty view
    // may have no data pointer, which memcpy must not be given even for 0 bytes.
    if (stored.requestIdLength == 32)
        std::memcpy(out, record.requestId.data(), 32);
    else if (stored.requestIdLength != 0)
        std::memcpy(out, record.requestId.data(), stored.requestIdLength);
    out += stored.requestIdLength;
    copyBytes(out, record.path.data(), stored.pathLength);
    out += stored.pathLength;
    if (traceIdBytes != 0) {  // mostly none: no trace, or the request id is the trace id
        copyBytes(out, record.traceId.data(), traceIdBytes);
        out += traceIdBytes;
    }
    if (stored.spanLength == AccessRecord::kSpanBytes)  // the tracer's: one fixed-size copy
        std::memcpy(out, record.span.data(), AccessRecord::kSpanBytes);
    else if (stored.spanLength != 0)
        copyBytes(out, record.span.data(), stored.spanLength);
    shard->pending.commit(length);
}

void AccessLog::start() {
    if (writer_.joinable()) return;
    stopping_ = false;
    writer_ = std::thread([this] { writerLoop(); });
}

void AccessLog::stop() {
    {
        std::lock_guard<std::mutex> lock(wakeMutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (writer_.joinable()) writer_.join();
    flushShards();
}

void AccessLog::writerLoop() {
    // SCHED_BATCH: the writer still gets its fair share of CPU, but its wake-ups do not preempt
    // an I/O loop in the middle of a request (no privilege needed; failure only costs latency).
    sched_param none{};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &none);
    std::unique_lock<std::mutex> lock(wakeMutex_);
    while (!stopping_) {
        wake_.wait_for(lock, kFlushInterval, [this] { return stopping_; });
        lock.unlock();
        flushShards();
        lock.lock();
    }
}

void AccessLog::flushShards() {
    Writer& writer = *writerState_;
    {
        std::lock_guard<std::mutex> lock(shardsMutex_);
        writer.shards.clear();
        for (auto& shard : shards_) writer.shards.push_back(shard.get());
    }
    // Take every shard's records first (each lock held for a swap only): the loop gets back an
    // empty buffer with room for what it wrote last time and half as much again, allocated
    // here rather than grown on the loop.
    std::size_t records = 0;
    for (Shard* shard : writer.shards) {
        ByteBuffer& taken = shard->spare;
        prepareEmpty(taken, std::max(shard->lastBatch + shard->lastBatch / 2, kInitialShardBytes));
        {
            std::lock_guard<SpinLock> lock(shard->mutex);
            taken.swap(shard->pending);
        }
        shard->lastBatch = taken.size();
        records += taken.size();
    }
    if (records == 0) return;
    // Lines take about three times their records' bytes; room for that and for the last flush.
    ByteBuffer& lines = writer.lines;
    prepareEmpty(lines, std::max(records * 3, writer.lastLines));
    SpanListener* spans = spanListener_.load();
    for (Shard* shard : writer.shards) {
        if (spans != nullptr)
            spans->writeLines(shard->spare, writer.lineWriter, lines);
        else
            writer.lineWriter.writeAll(shard->spare, lines, [](std::string_view, const RecordView&) {});
        shard->spare.clear();
    }
    if (spans != nullptr) spans->onFlushEnd();
    if (!lines.empty() && !file_->write(lines.data(), lines.size()))  // every line of it is lost
        dropped_.fetch_add(
            static_cast<std::uint64_t>(std::count(lines.data(), lines.data() + lines.size(), '\n')),
            std::memory_order_relaxed);
    writer.lastLines = std::max(lines.size(), kInitialLinesBytes);
    lines.clear();
}

}  // namespace berth::server
