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

namespace berth::server {
namespace {

using internal::maxEscapedLength;
using internal::writeJsonString;

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

// The fixed part of a record as stored; the request id and path bytes follow it.
struct StoredRecord {
    std::int64_t unixMs;
    std::uint32_t durationUs;
    std::uint32_t bytes;
    const char* plugin;
    const char* route;
    std::uint16_t status;
    std::uint8_t method;
    std::uint8_t requestIdLength;
    std::uint32_t pathLength;
};

// Room a line needs besides its path, request id, route and plugin: field names, timestamp,
// method and numbers (~150 bytes), plus the slack of the fixed-size copies below, which may
// store a few bytes past what they keep.
constexpr std::size_t kFixedRoom = 256;

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;

char* writeNumber(char* out, unsigned long long value) {
    return std::to_chars(out, out + 24, value).ptr;
}

template <std::size_t N>
char* writeLiteral(char* out, const char (&text)[N]) {
    std::memcpy(out, text, N - 1);
    return out + N - 1;
}

// "000" to "999": milliseconds, their fraction and status codes with one 4-byte store each.
struct ThreeDigitTable {
    char text[1000][4];
    constexpr ThreeDigitTable() : text() {
        for (unsigned i = 0; i < 1000; ++i) {
            text[i][0] = static_cast<char>('0' + i / 100);
            text[i][1] = static_cast<char>('0' + i / 10 % 10);
            text[i][2] = static_cast<char>('0' + i % 10);
        }
    }
};
constexpr ThreeDigitTable kThreeDigits;

// `value` < 1000. Stores one byte more than it keeps.
char* writeThreeDigits(char* out, unsigned value) {
    std::memcpy(out, kThreeDigits.text[value], 4);
    return out + 3;
}

// Microseconds as milliseconds with three decimals, without printf.
char* writeMilliseconds(char* out, std::uint32_t microseconds) {
    out = writeNumber(out, microseconds / 1000);
    *out++ = '.';
    return writeThreeDigits(out, microseconds % 1000);
}

// Non-zero high bits when some byte of `word` would need escaping or checking in a JSON string:
// below 0x23 (controls, space, '!', '"'), 0x80 or above, or '\\'. Exact for "any byte" (the
// borrow of a subtraction only runs on from a byte that is already flagged), and it rejects a
// few harmless bytes too (space, '!'), which only sends them the slow way.
std::uint64_t unsafeBytes(std::uint64_t word) noexcept {
    std::uint64_t backslash = word ^ (kOnes * '\\');
    return (word - kOnes * 0x23) | word | ((backslash - kOnes) & ~backslash);
}

// Writes `text` quoted and escaped, exactly as writeJsonString does, for text that seldom needs
// escaping: request ids never do (their precondition, AccessRecord::requestId) and paths almost
// never. The bytes are copied 8 at a time while unsafeBytes() collects over all of them, with
// one branch at the end; text that needs escaping after all is written again by
// writeJsonString. Needs maxEscapedLength(text.size()) + 8 bytes of room (the last word is
// stored whole).
char* writeQuoted(char* out, std::string_view text) noexcept {
    char* const start = out;
    const char* s = text.data();
    const std::size_t n = text.size();
    *out++ = '"';
    std::uint64_t unsafe = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, s + i, 8);
        std::memcpy(out + i, &word, 8);
        unsafe |= unsafeBytes(word);
    }
    if (i < n) {
        std::uint64_t word = kOnes * 'a';  // padded with a safe letter
        std::memcpy(&word, s + i, n - i);
        std::memcpy(out + i, &word, 8);
        unsafe |= unsafeBytes(word);
    }
    if ((unsafe & kHighs) != 0) return writeJsonString(start, text);
    out += n;
    *out++ = '"';
    return out;
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
    std::mutex mutex;
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

    /// Appends the records in `batch` to `lines` as JSON lines, each ending in '\n'.
    void format(const ByteBuffer& batch);

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

void AccessLog::Writer::format(const ByteBuffer& batch) {
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
        const EscapedText& route = escaped_.get(r.route, nullptr);
        const EscapedText& plugin = escaped_.get(r.plugin, &route);
        // Room for the whole line once (no zero-fill, and kept from flush to flush), then plain
        // pointer writes.
        char* const start = lines.prepare(kFixedRoom + maxEscapedLength(path.size()) +
                                          maxEscapedLength(requestId.size()) + route.room() + plugin.room());
        // kFixedRoom covers the 8 bytes writeQuoted may store past both.
        char* out = writeTimestamp(start, r.unixMs);
        const MethodText& method = methods_[r.method];
        std::memcpy(out, method.text, sizeof method.text);
        out += method.length;
        out = writeQuoted(out, path);  // client input: escaped whenever it needs it
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
        out = writeQuoted(out, requestId);
        out = writeLiteral(out, "}\n");
        lines.commit(static_cast<std::size_t>(out - start));
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
                        static_cast<std::uint32_t>(std::min<std::size_t>(record.path.size(), 65535))};
    const std::size_t length = sizeof stored + stored.requestIdLength + stored.pathLength;
    std::lock_guard<std::mutex> lock(shard->mutex);
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
    if (stored.pathLength != 0) std::memcpy(out, record.path.data(), stored.pathLength);
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
            std::lock_guard<std::mutex> lock(shard->mutex);
            taken.swap(shard->pending);
        }
        shard->lastBatch = taken.size();
        records += taken.size();
    }
    if (records == 0) return;
    // Lines take about three times their records' bytes; room for that and for the last flush.
    ByteBuffer& lines = writer.lines;
    prepareEmpty(lines, std::max(records * 3, writer.lastLines));
    for (Shard* shard : writer.shards) {
        writer.format(shard->spare);
        shard->spare.clear();
    }
    if (!lines.empty() && !file_->write(lines.data(), lines.size()))
        dropped_.fetch_add(1, std::memory_order_relaxed);
    writer.lastLines = std::max(lines.size(), kInitialLinesBytes);
    lines.clear();
}

}  // namespace berth::server
