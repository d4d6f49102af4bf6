#include "zipkin_encoder.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

#include "../http/request_id.h"
#include "../http/route_table.h"
#include "../observe/access_line.h"
#include "../observe/json_text.h"
#include "berth/request.h"

namespace berth::server {
namespace {

using internal::maxEscapedLength;
using internal::writeJsonString;
using json_text::writeLiteral;
using json_text::writeNumber;
using json_text::writeQuoted;
using json_text::writeThreeDigits;

constexpr std::string_view kTraceIdField = "{\"traceId\":\"";
constexpr std::string_view kIdField = "\",\"id\":\"";
constexpr std::string_view kParentField = "\",\"parentId\":\"";
// Where the ids go in a route's text (RouteText::root and ::child): a 32-digit trace id first.
constexpr std::size_t kTraceAt = kTraceIdField.size();
constexpr std::size_t kSpanAt = kTraceAt + 32 + kIdField.size();
constexpr std::size_t kParentAt = kSpanAt + 16 + kParentField.size();

std::string quoted(std::string_view text) {
    std::string out(maxEscapedLength(text.size()), '\0');
    out.resize(static_cast<std::size_t>(writeJsonString(out.data(), text) - out.data()));
    return out;
}

// `{"traceId":"…","id":"…"` and `,"parentId":"…"` when there is a parent.
char* writeIds(char* out, std::string_view traceHex, const char* spanHex, std::uint64_t parentId) noexcept {
    out = writeLiteral(out, "{\"traceId\":\"");
    std::memcpy(out, traceHex.data(), traceHex.size());
    out += traceHex.size();
    out = writeLiteral(out, "\",\"id\":\"");
    std::memcpy(out, spanHex, 16);
    out += 16;
    if (parentId != 0) {
        out = writeLiteral(out, "\",\"parentId\":\"");
        writeHex(out, parentId);
        out += 16;
    }
    *out++ = '"';
    return out;
}

// `,"duration":…`; Zipkin reads a duration of 0 as "unknown", so it is at least 1.
__attribute__((always_inline)) inline char* writeDuration(char* out, std::uint32_t durationUs) noexcept {
    out = writeLiteral(out, ",\"duration\":");
    if (durationUs < 10) {
        *out = static_cast<char>('0' + (durationUs == 0 ? 1 : durationUs));
        return out + 1;
    }
    if (durationUs < 100) {
        std::memcpy(out, json_text::kThreeDigits.text[durationUs] + 1, 2);
        return out + 2;
    }
    if (durationUs < 1000) return writeThreeDigits(out, durationUs);
    if (durationUs < 1000000) {  // thousands, then three digits of the table
        out = writeNumber(out, durationUs / 1000);
        return writeThreeDigits(out, durationUs % 1000);
    }
    return writeNumber(out, durationUs);
}

const char* kindName(SpanKind kind) {
    switch (kind) {
        case SpanKind::Server:
            return "SERVER";
        case SpanKind::Client:
            return "CLIENT";
        case SpanKind::Producer:
            return "PRODUCER";
        case SpanKind::Consumer:
            return "CONSUMER";
        case SpanKind::Local:
            break;
    }
    return nullptr;  // Zipkin v2: a local span has no kind
}

// The length-prefixed pieces of a generic record's body.
class BodyReader {
  public:
    BodyReader(const char* at, const char* end) : at_(at), end_(end) {}
    bool more() const noexcept { return at_ < end_; }
    template <class Length>
    bool next(std::string_view& text) noexcept {
        Length length;
        if (static_cast<std::size_t>(end_ - at_) < sizeof length) return false;
        std::memcpy(&length, at_, sizeof length);
        at_ += sizeof length;
        if (static_cast<std::size_t>(end_ - at_) < length) return false;
        text = {at_, length};
        at_ += length;
        return true;
    }

  private:
    const char* at_;
    const char* end_;
};

// A server span for writeServer(): the record itself (encodeServer), or its bytes where they lie
// in the access log's batch, read field by field (no copy of the whole record first).
struct SpanFields {
    const ServerSpan& span;
    std::uint64_t parentId() const noexcept { return span.parentId; }
    std::int64_t startUs() const noexcept { return span.startUs; }
    std::uint8_t flags() const noexcept { return span.flags; }
    const char* spanHex() const noexcept { return span.spanHex; }
};
struct StoredSpan {
    const char* bytes;  // sizeof(ServerSpan) of them
    template <class T>
    T load(std::size_t offset) const noexcept {
        T value;
        std::memcpy(&value, bytes + offset, sizeof value);
        return value;
    }
    const Route* route() const noexcept { return load<const Route*>(offsetof(ServerSpan, route)); }
    std::uint64_t parentId() const noexcept { return load<std::uint64_t>(offsetof(ServerSpan, parentId)); }
    std::int64_t startUs() const noexcept { return load<std::int64_t>(offsetof(ServerSpan, startUs)); }
    std::uint8_t flags() const noexcept { return load<std::uint8_t>(offsetof(ServerSpan, flags)); }
    const char* spanHex() const noexcept { return bytes + offsetof(ServerSpan, spanHex); }
};

}  // namespace

// Routes are few and live as long as the route table, so a direct-mapped table keyed by the
// pointer itself (with the method and status) does; a miss just builds the text again into the
// slot, so any number of routes stays correct.
class ZipkinEncoder::RouteTexts {
  public:
    RouteText& slot(const Route* route, std::uint32_t key) {
        auto bits = reinterpret_cast<std::uintptr_t>(route) ^ (std::uintptr_t{key} * 0x9E3779B9u);
        return slots_[((bits >> 4) ^ (bits >> 10) ^ (bits >> 17)) % kSlots];
    }

  private:
    static constexpr std::size_t kSlots = 64;
    RouteText slots_[kSlots];
};

ZipkinEncoder::ZipkinEncoder(const std::string& serviceName)
    : endpoint_("\"localEndpoint\":{\"serviceName\":" + quoted(serviceName) + "}"),
      routes_(std::make_unique<RouteTexts>()) {}

ZipkinEncoder::~ZipkinEncoder() = default;

void ZipkinEncoder::buildRouteText(RouteText& text, const Route* route, std::uint32_t key) const {
    text.methodAndStatus = ~0u;  // no key at all until it is whole
    const char* verb = methodName(static_cast<Method>(key & 0xff));
    const unsigned status = key >> 8 <= 999 ? key >> 8 : 0;
    char statusDigits[4];
    writeThreeDigits(statusDigits, status);
    std::string name = std::string(verb) + " ";
    const char* plugin = "";
    if (route != nullptr) {
        if (route->mount != nullptr) {
            name += route->mount->prefix;
            plugin = route->mount->plugin.c_str();
        }
        name += route->pattern.source();
    }
    text.middle = ",\"kind\":\"SERVER\",\"name\":" + quoted(name) + "," + endpoint_ +
                  ",\"tags\":{\"plugin\":" + quoted(plugin) + ",\"http.method\":\"" + verb +
                  "\",\"http.status_code\":\"" + std::string(statusDigits, 3) + "\",\"http.path\":";
    const std::string ids =
        std::string(kTraceIdField) + std::string(32, '0') + std::string(kIdField) + std::string(16, '0');
    text.root = ids + "\"" + text.middle;
    text.child = ids + std::string(kParentField) + std::string(16, '0') + "\"" + text.middle;
    text.route = route;
    text.methodAndStatus = key;
}

const ZipkinEncoder::RouteText* ZipkinEncoder::findRouteText(const Route* route, std::uint32_t key) noexcept {
    RouteText& text = routes_->slot(route, key);
    if (text.route != route || text.methodAndStatus != key) {
        last_ = nullptr;  // it may be this slot, about to change
        try {
            buildRouteText(text, route, key);
        } catch (...) {
            return nullptr;
        }
    }
    last_ = &text;
    lastRoute_ = route;
    lastKey_ = key;
    return last_;
}

const char* ZipkinEncoder::encode(const char* at, const char* end, ByteBuffer& out) {
    if (at >= end) return end;
    RecordType type;
    std::memcpy(&type, at, sizeof type);
    if (type == RecordType::Generic) return encodeGeneric(at, end, out);
    QueuedServerSpan r;
    if (type != RecordType::Server || static_cast<std::size_t>(end - at) < sizeof r) return end;
    std::memcpy(&r, at, sizeof r);
    at += sizeof r;
    if (static_cast<std::size_t>(end - at) < r.pathLength) return end;
    ServerSpanFields fields;
    fields.path = {at, r.pathLength};
    fields.traceId = {r.traceHex, r.traceHexLength == 32 ? 32u : 16u};
    fields.durationUs = r.durationUs;
    fields.status = r.status;
    fields.method = r.method;
    encodeServer(r.span, fields, out);
    return at + r.pathLength;
}

__attribute__((always_inline)) inline char* ZipkinEncoder::writeTimestamp(char* out,
                                                                          std::int64_t steadyUs) noexcept {
    const std::int64_t epochUs = std::max<std::int64_t>(steadyUs + clockOffsetUs_, 0);
    auto intoSecond = static_cast<std::uint64_t>(epochUs - secondUs_);
    if (secondUs_ < 0 || intoSecond >= 1000000) {
        secondUs_ = epochUs / 1000000 * 1000000;
        intoSecond = static_cast<std::uint64_t>(epochUs - secondUs_);
        char* digits = writeLiteral(secondText_, ",\"timestamp\":");
        secondLength_ = static_cast<std::size_t>(
            writeNumber(digits, static_cast<unsigned long long>(epochUs / 1000000)) - secondText_);
    }
    std::memcpy(out, secondText_, sizeof secondText_);
    out += secondLength_;
    out = writeThreeDigits(out, static_cast<unsigned>(intoSecond / 1000));
    return writeThreeDigits(out, static_cast<unsigned>(intoSecond % 1000));
}

// Inlined into both callers below: for the access log's spans that is the loop writing the lines,
// where a call (its arguments, the registers saved around it) cost a sixth of the span.
template <class Span>
__attribute__((always_inline)) inline char* ZipkinEncoder::writeServer(const RouteText& text,
                                                                       const Span& span,
                                                                       const ServerSpanFields& fields,
                                                                       char* const start) noexcept {
    char* o;
    if (fields.traceId.size() == 32) {  // the route's text with the ids written over it
        const std::string& head = span.parentId() != 0 ? text.child : text.root;
        // ~200 bytes: libc's memcpy moves them in fewer (wider) instructions than copyBytes.
        std::memcpy(start, head.data(), head.size());
        std::memcpy(start + kTraceAt, fields.traceId.data(), 32);
        std::memcpy(start + kSpanAt, span.spanHex(), 16);
        if (span.parentId() != 0) writeHex(start + kParentAt, span.parentId());
        o = start + head.size();
    } else {
        o = writeIds(start, fields.traceId, span.spanHex(), span.parentId());
        copyBytes(o, text.middle.data(), text.middle.size());
        o += text.middle.size();
    }
    if (!fields.quotedPath.empty()) {
        copyBytes(o, fields.quotedPath.data(), fields.quotedPath.size());
        o += fields.quotedPath.size();
    } else {
        o = writeQuoted(o, fields.path);  // client input: escaped whenever it needs it
    }
    if (fields.status >= 500) {  // Zipkin's convention: an "error" tag marks the span failed
        o = writeLiteral(o, ",\"error\":\"");
        o = writeThreeDigits(o, fields.status <= 999 ? fields.status : 0);
        *o++ = '"';
    }
    *o++ = '}';
    o = writeTimestamp(o, span.startUs());
    o = writeDuration(o, fields.durationUs);
    if (span.flags() & kSpanDebug) o = writeLiteral(o, ",\"debug\":true");
    return writeLiteral(o, "}\n");
}

void ZipkinEncoder::encodeServer(const ServerSpan& span, const ServerSpanFields& fields, ByteBuffer& out) {
    const RouteText* text = routeText(span.route, fields.method, fields.status);
    if (text == nullptr) throw std::bad_alloc();
    char* start = out.prepare(roomFor(*text, fields));
    out.commit(static_cast<std::size_t>(writeServer(*text, SpanFields{span}, fields, start) - start));
}

std::size_t ZipkinEncoder::encodeWithAccessLines(const ByteBuffer& batch, access_line::LineWriter& writer,
                                                 ByteBuffer& lines, SpanHandover& handover) {
    std::size_t dropped = 0;
    std::size_t room = handover.roomForSpans();  // the reporter may take some meanwhile: no matter
    SpanHandover::Writer spans(handover);
    writer.writeAll(batch, lines, [&](std::string_view bytes, const ServerSpanFields& fields) {
        if (bytes.size() != sizeof(ServerSpan)) return;  // not a server span record: ignored
        if (room == 0) {
            ++dropped;
            return;
        }
        --room;
        const StoredSpan span{bytes.data()};
        const RouteText* text = routeText(span.route(), fields.method, fields.status);
        char* start = text != nullptr ? spans.room(roomFor(*text, fields)) : nullptr;
        if (start == nullptr) {
            ++dropped;  // out of memory
            return;
        }
        spans.add(writeServer(*text, span, fields, start));
    });
    spans.commit();
    return dropped;
}

const char* ZipkinEncoder::encodeGeneric(const char* at, const char* end, ByteBuffer& out) {
    GenericSpanRecord r;
    if (static_cast<std::size_t>(end - at) < sizeof r) return end;
    std::memcpy(&r, at, sizeof r);
    at += sizeof r;
    if (static_cast<std::size_t>(end - at) < r.bodyLength) return end;
    BodyReader body(at, at + r.bodyLength);
    at += r.bodyLength;
    std::string_view name, remote;
    if (!body.next<std::uint16_t>(name) || !body.next<std::uint16_t>(remote)) return at;
    // Every piece escapes to at most 6 bytes per byte plus its quotes, and each costs at least 2
    // bytes of length prefix: 10 per body byte is room for any body.
    char* const start = out.prepare(kFixedRoom + endpoint_.size() + 10 * std::size_t{r.bodyLength});
    char ids[48];
    std::size_t traceLength = 16;
    if (r.traceHigh != 0) {
        writeHex(ids, r.traceHigh);
        writeHex(ids + 16, r.traceLow);
        traceLength = 32;
    } else {
        writeHex(ids, r.traceLow);
    }
    writeHex(ids + 32, r.spanId);
    char* o = writeIds(start, {ids, traceLength}, ids + 32, r.parentId);
    if (const char* kind = kindName(r.kind)) {
        o = writeLiteral(o, ",\"kind\":\"");
        std::size_t length = std::strlen(kind);
        std::memcpy(o, kind, length);
        o += length;
        *o++ = '"';
    }
    o = writeLiteral(o, ",\"name\":");
    o = writeJsonString(o, name);
    o = writeTimestamp(o, r.startUs);
    o = writeDuration(o, r.durationUs);
    *o++ = ',';
    std::memcpy(o, endpoint_.data(), endpoint_.size());
    o += endpoint_.size();
    if (!remote.empty()) {
        o = writeLiteral(o, ",\"remoteEndpoint\":{\"serviceName\":");
        o = writeJsonString(o, remote);
        *o++ = '}';
    }
    bool first = true;
    std::string_view key, value;
    while (body.more() && body.next<std::uint16_t>(key) && body.next<std::uint32_t>(value)) {
        o = first ? writeLiteral(o, ",\"tags\":{") : writeLiteral(o, ",");
        first = false;
        o = writeJsonString(o, key);
        *o++ = ':';
        o = writeJsonString(o, value);
    }
    if (!first) *o++ = '}';
    if (r.flags & kSpanDebug) o = writeLiteral(o, ",\"debug\":true");
    o = writeLiteral(o, "}\n");
    out.commit(static_cast<std::size_t>(o - start));
    return at;
}

}  // namespace berth::server
