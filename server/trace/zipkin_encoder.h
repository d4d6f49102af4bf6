#pragma once
// Spans → Zipkin v2 JSON lines (one object and '\n' per span), off the request path: on the
// reporter thread, or on the access log's writer thread for the server spans that ride on access
// log records. Hand-written into a reused buffer: Poco::JSON would cost ~20,000 instructions a
// span (../shared/HTTP-NOTES.md), more than the whole request it describes. For a server span all
// text up to its status is the same for every span of a route but for two ids at fixed places:
// it is made once per route, copied whole, and the ids written over it; the timestamp reuses the
// digits of the current second.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "../http/byte_buffer.h"
#include "span_record.h"

namespace berth::server {

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
    void encodeServer(const ServerSpan& span, const ServerSpanFields& fields, ByteBuffer& out) {
        char* start = out.prepare(roomFor(span, fields));
        out.commit(static_cast<std::size_t>(writeServer(span, fields, start) - start));
    }
    /// The most bytes the JSON line of such a span takes.
    std::size_t roomFor(const ServerSpan& span, const ServerSpanFields& fields) {
        return kFixedRoom + routeText(span.route, fields.method).child.size() +
               (fields.quotedPath.empty() ? 6 * fields.path.size() + 2 : fields.quotedPath.size());
    }
    /// Room for what a span writes besides its variable texts: ids, numbers, field names, and the
    /// slack of the fixed-size stores (writeQuoted and writeThreeDigits store past what they keep).
    static constexpr std::size_t kFixedRoom = 384;
    /// Writes the JSON line at `out`, which has roomFor() bytes; returns its end.
    char* writeServer(const ServerSpan& span, const ServerSpanFields& fields, char* out);

    /// A route's constant text for one request method: `middle` runs from `,"kind":"SERVER"` to
    /// `"http.status_code":"`; `root` and `child` put the ids' fields in front of it with
    /// placeholder digits where a 32-digit trace id, the span id and (child) the parent id go.
    struct RouteText {
        const Route* route = nullptr;
        std::uint8_t method = 0xff;
        std::string middle;
        std::string root;
        std::string child;
    };

  private:
    class RouteTexts;

    const char* encodeGeneric(const char* at, const char* end, ByteBuffer& out);
    const RouteText& routeText(const Route* route, std::uint8_t method) {
        if (last_ == nullptr || route != lastRoute_ || method != lastMethod_) findRouteText(route, method);
        return *last_;
    }
    void findRouteText(const Route* route, std::uint8_t method);
    /// `,"timestamp":<epoch µs>`; the first ten digits are kept for the second they belong to.
    char* writeTimestamp(char* out, std::int64_t steadyUs) noexcept;

    std::string endpoint_;  // `"localEndpoint":{"serviceName":"…"}`
    std::int64_t clockOffsetUs_ = 0;
    std::unique_ptr<RouteTexts> routes_;
    // The last route's text: consecutive spans are mostly of one route.
    const Route* lastRoute_ = nullptr;
    std::uint8_t lastMethod_ = 0;
    const RouteText* last_ = nullptr;
    std::int64_t secondUs_ = -1;  // the epoch second (in µs) whose digits are in secondText_
    char secondText_[32] = {};
    std::size_t secondLength_ = 0;
};

}  // namespace berth::server
