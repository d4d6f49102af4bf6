#pragma once
// One access log record: the bytes an I/O loop stores for it (AccessLog::record) and the JSON
// line the writer makes of them. A header, so that the tracer can write a record's server span
// in the same pass as its line (AccessLog::SpanListener): one reading of the record and one loop
// for both, with the span's writer inlined in it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

#include "../http/byte_buffer.h"
#include "berth/request.h"
#include "json_escape.h"
#include "json_text.h"
#include "request_fields.h"

namespace berth::server::access_line {

/// The fixed part of a record as stored; the request id, path, trace id and span bytes follow it.
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

/// A record's traceIdLength when AccessRecord::traceId is requestId itself.
constexpr std::uint8_t kSameAsRequestId = 0xff;

/// A record read back from a batch, in place: its fields are read from the batch where needed,
/// which keeps few values alive across the line's writing (a copy of them all was most of the
/// reading's cost, in moves to and from the stack).
class Record {
  public:
    /// Starts at the record at `at`; false when no whole record is left.
    bool read(const char* at, const char* end) noexcept {
        if (static_cast<std::size_t>(end - at) < sizeof(StoredRecord)) return false;
        at_ = at;
        std::memcpy(&lengths_, at + kLengthsAt, sizeof lengths_);
        return true;
    }
    /// Where the next record starts.
    const char* next() const noexcept { return span().data() + spanLength(); }

    std::int64_t unixMs() const noexcept { return load<std::int64_t>(offsetof(StoredRecord, unixMs)); }
    std::uint32_t durationUs() const noexcept {
        return load<std::uint32_t>(offsetof(StoredRecord, durationUs));
    }
    std::uint32_t bytes() const noexcept { return load<std::uint32_t>(offsetof(StoredRecord, bytes)); }
    const char* plugin() const noexcept { return load<const char*>(offsetof(StoredRecord, plugin)); }
    const char* route() const noexcept { return load<const char*>(offsetof(StoredRecord, route)); }
    std::uint16_t status() const noexcept { return static_cast<std::uint16_t>(lengths_); }
    std::uint8_t method() const noexcept { return static_cast<std::uint8_t>(lengths_ >> 16); }
    /// The method's byte and the status above it (LineText's key).
    std::uint32_t methodAndStatus() const noexcept {
        return static_cast<std::uint32_t>(lengths_ >> 16 & 0xff) |
               static_cast<std::uint32_t>(lengths_ & 0xffff) << 8;
    }
    bool traceIsRequestId() const noexcept { return (lengths_ >> 48 & 0xff) == kSameAsRequestId; }

    std::string_view requestId() const noexcept { return {at_ + sizeof(StoredRecord), requestIdLength()}; }
    std::string_view path() const noexcept {
        return {at_ + sizeof(StoredRecord) + requestIdLength(), pathLength()};
    }
    /// requestId() itself when traceIsRequestId().
    std::string_view traceId() const noexcept {
        if (traceIsRequestId()) return requestId();
        return {path().data() + pathLength(), traceIdBytes()};
    }
    std::string_view span() const noexcept {
        return {path().data() + pathLength() + traceIdBytes(), spanLength()};
    }

  private:
    // The last 8 bytes: status, method, the request id's, path's, trace id's and span's lengths.
    static constexpr std::size_t kLengthsAt = offsetof(StoredRecord, status);
    static_assert(sizeof(StoredRecord) == kLengthsAt + 8, "the lengths end the record");

    template <class T>
    T load(std::size_t offset) const noexcept {
        T value;
        std::memcpy(&value, at_ + offset, sizeof value);
        return value;
    }
    std::size_t requestIdLength() const noexcept { return lengths_ >> 24 & 0xff; }
    std::size_t pathLength() const noexcept { return lengths_ >> 32 & 0xffff; }
    std::size_t traceIdBytes() const noexcept { return traceIsRequestId() ? 0 : lengths_ >> 48 & 0xff; }
    std::size_t spanLength() const noexcept { return lengths_ >> 56; }

    const char* at_ = nullptr;
    std::uint64_t lengths_ = 0;
};

/// The constant text of a line around its path, for one route, plugin, method and status:
/// `Z","method":"GET","path":` before the path and `,"route":"…","plugin":"…","status":200,"bytes":`
/// after it. Escaped once, when the four first come together, then copied with fixed-size moves
/// (no call, no branch on the length) when it fits the inline room, as nearly every one does.
struct LineText {
    static constexpr std::size_t kHead = 32;  // `Z","method":"OPTIONS","path":` and the rest
    static constexpr std::size_t kInline = 96;

    const char* route = nullptr;
    const char* plugin = nullptr;
    std::uint32_t methodAndStatus = 0;  // methodAndStatusOf()
    std::uint8_t headLength = 0;
    char head[kHead] = {};
    std::size_t tailLength = 0;
    char tailInline[kInline] = {};
    std::string tailHeap;  // when longer than kInline

    static std::uint32_t methodAndStatusOf(std::uint8_t method, std::uint16_t status) noexcept {
        return method | std::uint32_t{status} << 8;
    }
    std::size_t room() const noexcept { return kHead + std::max(tailLength, kInline); }
    char* writeHead(char* out) const noexcept {
        std::memcpy(out, head, kHead);
        return out + headLength;
    }
    char* writeTail(char* out) const noexcept {
        if (tailLength <= kInline)
            std::memcpy(out, tailInline, kInline);
        else
            std::memcpy(out, tailHeap.data(), tailLength);
        return out + tailLength;
    }
    void assign(const char* routeText, const char* pluginText, std::uint32_t key) {
        using json_text::writeLiteral;
        route = nullptr;  // no key until the text is whole (an allocation below may throw)
        const auto method = static_cast<Method>(key & 0xff);
        const auto status = static_cast<std::uint16_t>(key >> 8);
        std::string text = std::string("Z\",\"method\":\"") + methodName(method) + "\",\"path\":";
        headLength = static_cast<std::uint8_t>(text.size());
        std::memcpy(head, text.data(), text.size());
        const std::string_view routeView(routeText), pluginView(pluginText);
        text.resize(64 + internal::maxEscapedLength(routeView.size()) +
                    internal::maxEscapedLength(pluginView.size()));
        char* out = writeLiteral(text.data(), ",\"route\":");
        out = internal::writeJsonString(out, routeView);
        out = writeLiteral(out, ",\"plugin\":");
        out = internal::writeJsonString(out, pluginView);
        out = writeLiteral(out, ",\"status\":");
        out = json_text::writeNumber(out, status);
        out = writeLiteral(out, ",\"bytes\":");
        tailLength = static_cast<std::size_t>(out - text.data());
        text.resize(tailLength);
        if (tailLength <= kInline) {
            std::memcpy(tailInline, text.data(), tailLength);
            std::string().swap(tailHeap);
        } else {
            tailHeap = std::move(text);
        }
        route = routeText;
        plugin = pluginText;
        methodAndStatus = key;
    }
};

/// Routes and plugins are few and live as long as the route table, so their pointers are the
/// key: a direct-mapped table (no hashing of the text), behind a check of the last line's entry,
/// which the next line mostly shares. A miss just builds the text again into the slot, so any
/// number of distinct keys stays correct.
class LineTexts {
  public:
    const LineText& get(const char* route, const char* plugin, std::uint32_t methodAndStatus) {
        if (last_->route == route && last_->plugin == plugin && last_->methodAndStatus == methodAndStatus)
            return *last_;
        return find(route, plugin, methodAndStatus);
    }

  private:
    static constexpr std::size_t kSlots = 64;

    __attribute__((noinline)) const LineText& find(const char* route, const char* plugin, std::uint32_t key) {
        auto bits = reinterpret_cast<std::uintptr_t>(route) ^
                    (reinterpret_cast<std::uintptr_t>(plugin) << 1) ^ (std::uintptr_t{key} * 0x9E3779B9u);
        LineText& slot = slots_[((bits >> 3) ^ (bits >> 9) ^ (bits >> 17)) % kSlots];
        if (slot.route != route || slot.plugin != plugin || slot.methodAndStatus != key)
            slot.assign(route, plugin, key);
        last_ = &slot;
        return slot;
    }

    LineText slots_[kSlots];
    LineText* last_ = &slots_[0];  // its null route matches no record
};

/// Makes the lines of records, keeping their constant texts and the current second's timestamp
/// from line to line (the state of the access log's writer thread).
class LineWriter {
  public:
    /// Where lines go: the room of `lines` between `at` and `limit`, taken once and committed
    /// once (not a ByteBuffer call per line). Bytes behind `at` are only seen after commit().
    struct Output {
        explicit Output(ByteBuffer& buffer) : lines(buffer) { take(0); }
        /// Where to write at least `bytes` (what is written goes to `at`).
        char* room(std::size_t bytes) {
            if (static_cast<std::size_t>(limit - at) < bytes) {
                commit();
                take(bytes);
            }
            return at;
        }
        void commit() noexcept { lines.commit(static_cast<std::size_t>(at - (lines.data() + lines.size()))); }

        ByteBuffer& lines;
        char* at = nullptr;
        char* limit = nullptr;

      private:
        void take(std::size_t bytes) {
            at = lines.prepare(bytes);
            limit = at + lines.spare();
        }
    };

    /// Room a line needs besides its path, ids and LineText: field names, timestamp and numbers
    /// (~190 bytes at most), plus the slack of the fixed-size copies, which may store a few bytes
    /// past what they keep.
    static constexpr std::size_t kFixedRoom = 256;

    LineWriter() { startSecond(0); }

    /// Appends `r`'s line to `lines`; returns what the line says, for the record's span (the
    /// quoted path is a view into `lines`, valid until it grows). Inlined into writeAll(), where
    /// the span's writer shares the loop (and its registers).
    __attribute__((always_inline)) RequestFields write(const Record& r, Output& lines) {
        using json_text::writeLiteral;
        using json_text::writeQuoted;
        const LineText& text = texts_.get(r.route(), r.plugin(), r.methodAndStatus());
        const std::string_view path = r.path(), requestId = r.requestId();
        // Room for the whole line once (no zero-fill, and kept from flush to flush), then plain
        // pointer writes.
        char* const start = lines.room(kFixedRoom + internal::maxEscapedLength(path.size()) +
                                       internal::maxEscapedLength(requestId.size()) +
                                       internal::maxEscapedLength(r.traceId().size()) + text.room());
        char* out = writeTimestamp(start, r.unixMs());
        out = text.writeHead(out);
        char* const quotedPath = out;
        out = writeQuoted(out, path);  // client input: escaped whenever it needs it
        RequestFields fields;
        fields.path = path;
        fields.quotedPath = {quotedPath, static_cast<std::size_t>(out - quotedPath)};
        out = text.writeTail(out);  // up to `"bytes":`
        out = json_text::writeUnsigned(out, r.bytes());
        out = writeLiteral(out, ",\"duration_ms\":");
        const std::uint32_t durationUs = r.durationUs();
        const std::uint32_t ms = durationUs / 1000;  // milliseconds with three decimals
        out = json_text::writeUnsigned(out, ms);
        *out++ = '.';
        out = json_text::writeThreeDigits(out, durationUs - ms * 1000);
        out = writeLiteral(out, ",\"request_id\":");
        char* const quotedRequestId = out;
        out = writeQuoted(out, requestId);
        if (r.traceIsRequestId()) {  // the same quoted text again
            const std::size_t length = static_cast<std::size_t>(out - quotedRequestId);
            out = writeLiteral(out, ",\"trace_id\":");
            if (length == 34)  // a generated id, quoted: fixed-size moves
                std::memcpy(out, quotedRequestId, 34);
            else
                copyBytes(out, quotedRequestId, length);
            out += length;
        } else if (!r.traceId().empty()) {
            out = writeLiteral(out, ",\"trace_id\":");
            out = writeQuoted(out, r.traceId());
        }
        lines.at = writeLiteral(out, "}\n");
        fields.traceId = r.traceId();
        fields.durationUs = durationUs;
        fields.status = r.status();
        fields.method = r.method();
        return fields;
    }

    /// Appends the lines of the records in `batch` to `lines`, and after the line of each record
    /// with span bytes calls `onSpan(span, fields)` (write()'s fields; views valid for the call).
    template <class OnSpan>
    void writeAll(const ByteBuffer& batch, ByteBuffer& lines, OnSpan&& onSpan) {
        Output out(lines);
        const char* const end = batch.data() + batch.size();
        Record r;
        for (const char* at = batch.data(); r.read(at, end); at = r.next()) {
            const RequestFields fields = write(r, out);
            if (!r.span().empty()) onSpan(r.span(), fields);
        }
        out.commit();
    }

  private:
    /// `{"timestamp":"2026-11-25T13:42:41.415` (the 'Z' starts the line's LineText).
    char* writeTimestamp(char* out, std::int64_t unixMs) noexcept {
        auto intoSecond = static_cast<std::uint64_t>(unixMs) - static_cast<std::uint64_t>(secondStartMs_);
        if (__builtin_expect(intoSecond >= 1000, 0)) intoSecond = startSecond(unixMs);
        std::memcpy(out, timestampPrefix_, sizeof timestampPrefix_);
        return json_text::writeThreeDigits(out + sizeof timestampPrefix_, static_cast<unsigned>(intoSecond));
    }
    /// Makes the prefix of `unixMs`'s second; returns the milliseconds into it.
    __attribute__((noinline)) std::uint64_t startSecond(std::int64_t unixMs) noexcept {
        std::int64_t second = unixMs / 1000 - (unixMs % 1000 < 0 ? 1 : 0);  // floor, also before 1970
        secondStartMs_ = second * 1000;
        std::time_t seconds = static_cast<std::time_t>(second);
        std::tm utc;
        gmtime_r(&seconds, &utc);
        char text[24];
        std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
        json_text::writeLiteral(timestampPrefix_, "{\"timestamp\":\"");
        std::memcpy(timestampPrefix_ + 14, text, 19);
        timestampPrefix_[33] = '.';
        return static_cast<std::uint64_t>(unixMs - secondStartMs_);
    }

    LineTexts texts_;
    // Records of a batch mostly share their second: `{"timestamp":"YYYY-MM-DDTHH:MM:SS.` is made
    // once a second, and a record of that second needs a subtraction, not a division.
    std::int64_t secondStartMs_ = 0;
    char timestampPrefix_[34] = {};
};

}  // namespace berth::server::access_line
