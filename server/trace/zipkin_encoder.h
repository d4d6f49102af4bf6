#pragma once
// Spans → Zipkin v2 JSON lines (one object and '\n' per span), off the request path: on the
// reporter thread, or on the access log's writer thread for the server spans that ride on access
// log records. Hand-written into a reused buffer: Poco::JSON would cost ~20,000 instructions a
// span (../shared/HTTP-NOTES.md), more than the whole request it describes. For a server span all
// text up to its path is the same for every span of a route, method and status but for two ids at
// fixed places: it is made once for them, copied whole, and the ids written over it; the timestamp
// reuses the digits of the current second.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "../http/byte_buffer.h"
#include "span_handover.h"
#include "span_record.h"

namespace berth::server {

namespace access_line {
class LineWriter;
}

class ZipkinEncoder {
  public:
    /// `serviceName`: every span's localEndpoint.serviceName (tracing.service_name).
    explicit ZipkinEncoder(const std::string& serviceName);
    ~ZipkinEncoder();
    ZipkinEncoder(const ZipkinEncoder&) = delete;
    ZipkinEncoder& operator=(const ZipkinEncoder&) = delete;

    /// Records carry steady-clock microseconds; this offset (epoch minus steady, in µs) turns
    /// them into Zipkin's epoch microseconds. Set it before each batch.
    void setClockOffset(std::int64_t offsetUs) noexcept { clockOffsetUs_ = offsetUs; }

    /// Appends the JSON line of the queued record (span_record.h) at `at` to `out` and returns
    /// where the next record starts; returns `end`, appending nothing, when no whole record is left.
    const char* encode(const char* at, const char* end, ByteBuffer& out);

    /// Appends the JSON line of a server span.
    void encodeServer(const ServerSpan& span, const ServerSpanFields& fields, ByteBuffer& out);
    /// Appends the access log lines of the records in `batch` to `lines` with `writer`, and the
    /// JSON lines of their server spans to `handover`, in one pass; returns how many spans were
    /// dropped (`handover` full, or out of memory).
    std::size_t encodeWithAccessLines(const ByteBuffer& batch, access_line::LineWriter& writer,
                                      ByteBuffer& lines, SpanHandover& handover);

    /// Room for what a span writes besides its variable texts: ids, numbers, field names, and the
    /// slack of the fixed-size stores (writeQuoted and writeThreeDigits store past what they keep).
    static constexpr std::size_t kFixedRoom = 384;

    /// A route's constant text for one request method and status: `middle` runs from
    /// `,"kind":"SERVER"` to `"http.path":`; `root` and `child` put the ids' fields in front of it
    /// with placeholder digits where a 32-digit trace id, the span id and (child) the parent id go.
    struct RouteText {
        const Route* route = nullptr;
        std::uint32_t methodAndStatus = ~0u;  // the method's byte, the status above it
        std::string middle;
        std::string root;
        std::string child;
    };

  private:
    class RouteTexts;

    const char* encodeGeneric(const char* at, const char* end, ByteBuffer& out);
    /// The text of a route's spans (made on first use); null when it could not be made (out of
    /// memory).
    const RouteText* routeText(const Route* route, std::uint8_t method, std::uint16_t status) noexcept {
        const std::uint32_t key = method | std::uint32_t{status} << 8;
        if (last_ == nullptr || route != lastRoute_ || key != lastKey_) return findRouteText(route, key);
        return last_;
    }
    /// The most bytes the JSON line of a span of `text` with `fields` takes.
    static std::size_t roomFor(const RouteText& text, const ServerSpanFields& fields) noexcept {
        return kFixedRoom + text.child.size() +
               (fields.quotedPath.empty() ? 6 * fields.path.size() + 2 : fields.quotedPath.size());
    }
    /// Writes the JSON line of a span of route text `text` (routeText() of its route, method, status)
    /// at `out`, which has roomFor() bytes; returns its end. `Span` reads the ServerSpan's fields.
    template <class Span>
    char* writeServer(const RouteText& text, const Span& span, const ServerSpanFields& fields,
                      char* out) noexcept;
    const RouteText* findRouteText(const Route* route, std::uint32_t key) noexcept;
    void buildRouteText(RouteText& text, const Route* route, std::uint32_t key) const;
    /// `,"timestamp":<epoch µs>`; the first ten digits are kept for the second they belong to.
    char* writeTimestamp(char* out, std::int64_t steadyUs) noexcept;

    std::string endpoint_;  // `"localEndpoint":{"serviceName":"…"}`
    std::int64_t clockOffsetUs_ = 0;
    std::unique_ptr<RouteTexts> routes_;
    // The last route's text: consecutive spans are mostly of one route.
    const Route* lastRoute_ = nullptr;
    std::uint32_t lastKey_ = 0;
    const RouteText* last_ = nullptr;
    std::int64_t secondUs_ = -1;  // the epoch second (in µs) whose digits are in secondText_
    char secondText_[32] = {};
    std::size_t secondLength_ = 0;
};

}  // namespace berth::server
