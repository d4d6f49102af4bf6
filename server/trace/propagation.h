#pragma once
// Trace context across process boundaries: the caller's context read from B3 (the single `b3`
// header or the X-B3-* headers) or W3C `traceparent`, and the same headers written for a call
// we make. Parsing is strict: anything malformed is ignored (a new trace starts), never refused.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trace_context.h"

namespace berth::server {

/// The propagation headers of one request, noted as its headers arrive (views into the request).
struct TraceHeaderViews {
    std::string_view b3;
    std::string_view traceId;       ///< X-B3-TraceId
    std::string_view spanId;        ///< X-B3-SpanId
    std::string_view parentSpanId;  ///< X-B3-ParentSpanId
    std::string_view sampled;       ///< X-B3-Sampled
    std::string_view flags;         ///< X-B3-Flags
    std::string_view traceparent;
    bool any = false;  ///< one of the above arrived

    /// Keeps `value` when `name` (any case) is one of the above and the first of its name; other
    /// names cost a length switch and at most one short compare.
    void note(std::string_view name, std::string_view value) noexcept;
};

/// What the caller decided about sampling.
enum class SamplingDecision { Defer, Accept, Deny };

/// Which header the caller's context was read from.
enum class TraceFormat : std::uint8_t { None, B3, Traceparent };

struct IncomingTrace {
    /// The caller's trace id and span id (our server span's parent), when it sent them.
    TraceContext caller;
    SamplingDecision decision = SamplingDecision::Defer;
    bool debug = false;
    TraceFormat format = TraceFormat::None;  ///< set by extractTrace
};

/// The first valid of: `b3`, the X-B3-* headers, `traceparent`. Invalid ones are skipped; with none
/// valid the result has no trace id and defers the sampling decision.
IncomingTrace extractTrace(const TraceHeaderViews& headers) noexcept;

/// Each format on its own (for tests): false, with `out` unspecified, when malformed.
bool parseB3Single(std::string_view value, IncomingTrace& out) noexcept;
bool parseB3Multi(const TraceHeaderViews& headers, IncomingTrace& out) noexcept;
bool parseTraceparent(std::string_view value, IncomingTrace& out) noexcept;

/// Whether `list` is a well-formed W3C `tracestate` value (Trace Context §3.3.1): comma-separated
/// key=value members with optional blanks around them, empty members allowed, at most 32 members,
/// keys as the grammar says (lowercase `vendor` or `tenant@vendor`) and unique, values of 1 to 256
/// printable characters without ',' or '='.
bool isValidTraceState(std::string_view list) noexcept;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// The headers that make the callee a child of `context`, a span of a traced request (its spanId
/// is the caller-side span: the client span, or the current span when there is none):
/// X-B3-TraceId, X-B3-SpanId, X-B3-ParentSpanId (when it has a parent), X-B3-Sampled (X-B3-Flags:
/// 1 when debug), b3 and traceparent, and `traceState` (when not empty) as tracestate next to it.
/// A context without a trace id (not sampled, and the caller sent no ids) gives only the decision:
/// "X-B3-Sampled: 0" and "b3: 0".
HeaderList propagationHeaders(const TraceContext& context, std::string_view traceState = {});

/// The 16 or 32 lowercase hex digits of the trace id (32 when traceHigh is set).
std::string traceIdHex(const TraceContext& context);
/// The 16 lowercase hex digits of `id`.
std::string spanIdHex(std::uint64_t id);

}  // namespace berth::server
