#include "access_log.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <string_view>

#include "../http/byte_buffer.h"
#include "berth/json.h"
#include "berth/request.h"
#include "json_escape.h"
#include "json_text.h"
#include "spin_lock.h"

namespace berth::server {
namespace {

using internal::maxEscapedLength;
using internal::writeJsonString;
using json_text::writeLiteral;
using json_text::writeNumber;
using json_text::writeQuoted;
using json_text::writeThreeDigits;

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

// The fixed part of a record as stored; the request id, path, trace id and span bytes follow it.
struct StoredRecord {
    std::int64_t unixMs;
    std::uint32_t durationUs;
    std::uint32_t bytes;
    const char* plugin;
    const char* route;
    std::uint16_t status;
    std::uint8_t method;
    std::uint8_t requestIdLength;
    std::uint16_t pathLength;    // capped at 65535, so the trace id's length fits in the same 8 bytes
    std::uint8_t traceIdLength;  // kSameAsRequestId: the request id is the trace id
    std::uint8_t spanLength;     // AccessRecord::span, for the SpanListener
};

// A record's traceIdLength when AccessRecord::traceId is requestId itself.
constexpr std::uint8_t kSameAsRequestId = 0xff;

// Room a line needs besides its path, request id, route and plugin: field names, timestamp,
// method and numbers (~150 bytes), plus the slack of the fixed-size copies below, which may
// store a few bytes past what they keep.
constexpr std::size_t kFixedRoom = 256;

// Microseconds as milliseconds with three decimals, without printf.
char* writeMilliseconds(char* out, std::uint32_t microseconds) {
    out = writeNumber(out, microseconds / 1000);
    *out++ = '.';
    return writeThreeDigits(out, microseconds % 1000);
}

// The escaped, quoted text of one route or plugin string. Most fit `inlineText` and are copied
// with one fixed-size memcpy (a few moves, no call, no length-dependent branches).
struct EscapedText {
    static constexpr std::size_t kInline = 64;

    const char* key = nullptr;
    std::size_t length = 0;
    char inlineText[kInline] = {};
    std::string heapText;  // when longer than kInline

    std::size_t room() const noexcept { return std::max(length, kInline); }
    char* write(char* out) const noexcept {
        if (length <= kInline)
            std::memcpy(out, inlineText, kInline);
        else
            std::memcpy(out, heapText.data(), length);
        return out + length;
    }
    void assign(const char* text) {
        std::string_view view(text);
        heapText.resize(maxEscapedLength(view.size()));
        length = static_cast<std::size_t>(writeJsonString(heapText.data(), view) - heapText.data());
        heapText.resize(length);
        if (length <= kInline) {
            std::memcpy(inlineText, heapText.data(), length);
            std::string().swap(heapText);
        }
        key = text;
    }
};

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

// Route and plugin strings are few and live as long as the route table, so each pointer is
// escaped once: a direct-mapped table keyed by the pointer itself (no hashing of the text).
// A miss just escapes again into the slot, so any number of distinct strings stays correct.
class EscapeCache {
  public:
    /// The escaped text of `text`. It stays valid until the next call, except that a call with
    /// `keep` (an earlier result still in use) never overwrites it.
    const EscapedText& get(const char* text, const EscapedText* keep) {
        auto bits = reinterpret_cast<std::uintptr_t>(text);
        EscapedText& slot = slots_[((bits >> 3) ^ (bits >> 9)) % kSlots];
        if (slot.key == text) return slot;
        EscapedText& into = &slot == keep ? spare_ : slot;
        if (into.key != text) into.assign(text);
        return into;
    }

  private:
    static constexpr std::size_t kSlots = 64;
    EscapedText slots_[kSlots];
    EscapedText spare_;  // for a plugin whose slot holds the same line's route
};

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
    Writer() {
        for (unsigned m = 0; m < 256; ++m) {
            std::string text =
                std::string("\",\"method\":\"") + methodName(static_cast<Method>(m)) + "\",\"path\":";
            methods_[m].length = static_cast<std::uint8_t>(text.size());
            std::memcpy(methods_[m].text, text.data(), text.size());
        }
    }

    /// Appends the records in `batch` to `lines` as JSON lines, each ending in '\n', and gives
    /// their spans to `spans` (when not null).
    void format(const ByteBuffer& batch, SpanListener* spans);

    std::vector<Shard*> shards;  // the list of one flush
    ByteBuffer lines;            // one flush's lines, written with one write()
    std::size_t lastLines = kInitialLinesBytes;

  private:
    char* writeTimestamp(char* out, std::int64_t unixMs);

    struct MethodText {
        char text[32];  // `","method":"GET","path":`, copied whole
        std::uint8_t length;
    };
    MethodText methods_[256] = {};  // by the stored byte: methodName() of any value
    EscapeCache escaped_;
    // Records of a batch mostly share their second: `{"timestamp":"YYYY-MM-DDTHH:MM:SS.` is made
    // once a second, and a record of that second needs a subtraction, not a division.
    std::int64_t secondStartMs_ = 0;
    bool haveSecond_ = false;
    char timestampPrefix_[34] = {};
};

// `{"timestamp":"2026-11-25T13:42:41.415Z`
char* AccessLog::Writer::writeTimestamp(char* out, std::int64_t unixMs) {
    auto intoSecond = static_cast<std::uint64_t>(unixMs) - static_cast<std::uint64_t>(secondStartMs_);
    if (intoSecond >= 1000 || !haveSecond_) {
        std::int64_t second = unixMs / 1000 - (unixMs % 1000 < 0 ? 1 : 0);  // floor, also before 1970
        secondStartMs_ = second * 1000;
        intoSecond = static_cast<std::uint64_t>(unixMs - secondStartMs_);
        haveSecond_ = true;
        std::time_t seconds = static_cast<std::time_t>(second);
        std::tm utc;
        gmtime_r(&seconds, &utc);
        char text[24];
        std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
        writeLiteral(timestampPrefix_, "{\"timestamp\":\"");
        std::memcpy(timestampPrefix_ + 14, text, 19);
        timestampPrefix_[33] = '.';
    }
    std::memcpy(out, timestampPrefix_, sizeof timestampPrefix_);
    out = writeThreeDigits(out + sizeof timestampPrefix_, static_cast<unsigned>(intoSecond));
    *out++ = 'Z';
    return out;
}

void AccessLog::Writer::format(const ByteBuffer& batch, SpanListener* spans) {
    const char* at = batch.data();
    const char* const end = at + batch.size();
    while (static_cast<std::size_t>(end - at) >= sizeof(StoredRecord)) {
        StoredRecord r;
        std::memcpy(&r, at, sizeof r);
        at += sizeof r;
        std::string_view requestId(at, r.requestIdLength);
        at += r.requestIdLength;
        std::string_view path(at, r.pathLength);
        at += r.pathLength;
        const bool traceIsRequestId = r.traceIdLength == kSameAsRequestId;
        std::string_view traceId = traceIsRequestId ? requestId : std::string_view(at, r.traceIdLength);
        if (!traceIsRequestId) at += r.traceIdLength;
        std::string_view span(at, r.spanLength);
        at += r.spanLength;
        const EscapedText& route = escaped_.get(r.route, nullptr);
        const EscapedText& plugin = escaped_.get(r.plugin, &route);
        // Room for the whole line once (no zero-fill, and kept from flush to flush), then plain
        // pointer writes.
        char* const start =
            lines.prepare(kFixedRoom + maxEscapedLength(path.size()) + maxEscapedLength(requestId.size()) +
                          maxEscapedLength(traceId.size()) + route.room() + plugin.room());
        // kFixedRoom covers the 8 bytes writeQuoted may store past both.
        char* out = writeTimestamp(start, r.unixMs);
        const MethodText& method = methods_[r.method];
        std::memcpy(out, method.text, sizeof method.text);
        out += method.length;
        char* const quotedPath = out;
        out = writeQuoted(out, path);  // client input: escaped whenever it needs it
        const std::size_t quotedPathLength = static_cast<std::size_t>(out - quotedPath);
        out = writeLiteral(out, ",\"route\":");
        out = route.write(out);
        out = writeLiteral(out, ",\"plugin\":");
        out = plugin.write(out);
        out = writeLiteral(out, ",\"status\":");
        out =
            r.status >= 100 && r.status <= 999 ? writeThreeDigits(out, r.status) : writeNumber(out, r.status);
        out = writeLiteral(out, ",\"bytes\":");
        out = writeNumber(out, r.bytes);
        out = writeLiteral(out, ",\"duration_ms\":");
        out = writeMilliseconds(out, r.durationUs);
        out = writeLiteral(out, ",\"request_id\":");
        char* const quotedRequestId = out;
        out = writeQuoted(out, requestId);
        if (traceIsRequestId) {  // the same quoted text again
            const std::size_t length = static_cast<std::size_t>(out - quotedRequestId);
            out = writeLiteral(out, ",\"trace_id\":");
            copyBytes(out, quotedRequestId, length);
            out += length;
        } else if (!traceId.empty()) {
            out = writeLiteral(out, ",\"trace_id\":");
            out = writeQuoted(out, traceId);
        }
        out = writeLiteral(out, "}\n");
        lines.commit(static_cast<std::size_t>(out - start));
        if (!span.empty() && spans != nullptr) {
            RecordView view;
            view.path = path;
            view.quotedPath = {quotedPath, quotedPathLength};
            view.traceId = traceId;
            view.durationUs = r.durationUs;
            view.status = r.status;
            view.method = r.method;
            spans->onSpan(span, view);
        }
    }
}

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
    std::lock_guard<SpinLock> lock(shard->mutex);
    if (shard->pending.size() > kMaxPendingBytes) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    // One room check (the writer hands back buffers already big enough), then three copies.
    char* out;
    try {
        out = shard->pending.prepare(length);
    } catch (...) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
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
    copyBytes(out, record.traceId.data(), traceIdBytes);
    out += traceIdBytes;
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
        writer.format(shard->spare, spans);
        shard->spare.clear();
    }
    if (spans != nullptr) spans->onFlushEnd();
    if (!lines.empty() && !file_->write(lines.data(), lines.size()))
        dropped_.fetch_add(1, std::memory_order_relaxed);
    writer.lastLines = std::max(lines.size(), kInitialLinesBytes);
    lines.clear();
}

}  // namespace berth::server
