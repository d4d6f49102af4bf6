#pragma once
// The request side of tracing: for each request that reaches a plugin route, whether it is traced
// and sampled, from the caller's B3/traceparent headers or tracing.sample_rate. The handler then
// runs under the request's context (current_span.h) and its I/O loop records the server span when
// the answer is written (http/connection.cpp).

#include <cstdint>
#include <cstring>
#include <string_view>

#include "propagation.h"
#include "trace_context.h"

namespace berth::server {

/// One request's trace, kept in the request.
struct RequestTrace {
    /// Our server span: the caller's trace id (or a new one), a new span id, the caller's span as
    /// parent. Without a trace id when not sampled and the caller sent none (nothing to pass on
    /// but "not sampled").
    TraceContext context;
    bool active = false;  ///< tracing is on and the request was routed to a plugin
    /// The ids as hex, made once for the log context, the access log and the span record.
    std::uint8_t traceHexLength = 0;  ///< 0 without a trace id
    bool traceIsRequestId = false;    ///< a new trace of ours: its id is the request id
    char traceHex[32];
    char spanHex[16];

    std::string_view traceIdText() const noexcept { return {traceHex, traceHexLength}; }
    std::string_view spanIdText() const noexcept { return {spanHex, traceHexLength != 0 ? 16u : 0u}; }
};

class RequestTracer {
  public:
    explicit RequestTracer(Sampler sampler) : sampler_(sampler) {}

    /// Decides the request's trace. A new
    /// trace takes the request id as its id when berthd generated it (`generatedId`, the hex of
    /// `idBits`; empty when the caller sent its own): one id to search logs and traces by.
    void begin(const TraceHeaderViews& headers, std::string_view generatedId, const std::uint64_t* idBits,
               RequestTrace& trace) const noexcept {
        if (headers.any || idBits == nullptr || generatedId.size() != 32 || (idBits[0] | idBits[1]) == 0)
            return beginOther(headers, generatedId, idBits, trace);
        // The usual request: no caller context, an id of ours. It is the trace id.
        trace.active = true;
        TraceContext& c = trace.context;
        c.traceHigh = idBits[0];
        c.traceLow = idBits[1];
        c.parentId = 0;
        c.debug = false;
        c.sampled = sampler_.sample(c.traceLow);
        if (!c.sampled) {
            c.traceHigh = c.traceLow = 0;  // no ids to make (logs and calls get none)
            trace.traceHexLength = 0;
            return;
        }
        std::memcpy(trace.traceHex, generatedId.data(), 32);
        trace.traceHexLength = 32;
        trace.traceIsRequestId = true;
        // A root span takes the trace id's low half as its id, as Zipkin's Brave does: no id nor
        // hex to make (the hex is the request id's second half). Zero is no span id, though.
        c.spanId = c.traceLow;
        if (__builtin_expect(c.spanId != 0, 1)) {
            std::memcpy(trace.spanHex, generatedId.data() + 16, 16);
        } else {
            c.spanId = newTraceId64();
            writeHex(trace.spanHex, c.spanId);
        }
    }

  private:
    void beginOther(const TraceHeaderViews& headers, std::string_view generatedId,
                    const std::uint64_t* idBits, RequestTrace& trace) const noexcept;

    Sampler sampler_;
};

}  // namespace berth::server
