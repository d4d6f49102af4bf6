#include "request_tracer.h"

namespace berth::server {

void RequestTracer::beginOther(const TraceHeaderViews& headers, std::string_view generatedId,
                               const std::uint64_t* idBits, RequestTrace& trace) const noexcept {
    trace.active = true;
    trace.traceHexLength = 0;
    trace.traceIsRequestId = false;
    TraceContext& c = trace.context;
    c = TraceContext{};
    IncomingTrace in;
    if (headers.any) in = extractTrace(headers);
    // The caller's decision wins; without one the rate decides, from the trace id, so that every
    // hop of a trace that defers decides alike.
    bool idIsRequestId = false;
    if (in.caller.hasTraceId()) {
        c.traceHigh = in.caller.traceHigh;
        c.traceLow = in.caller.traceLow;
        c.parentId = in.caller.spanId;
        c.sampled = in.decision == SamplingDecision::Accept ||
                    (in.decision == SamplingDecision::Defer && sampler_.sample(c.traceLow));
    } else {
        if (in.decision == SamplingDecision::Deny) return;
        idIsRequestId = idBits != nullptr && generatedId.size() == 32 && (idBits[0] | idBits[1]) != 0;
        c.traceLow = idIsRequestId ? idBits[1] : newTraceId64();
        if (in.decision == SamplingDecision::Defer && !sampler_.sample(c.traceLow)) {
            c.traceLow = 0;  // not sampled: no ids to make (logs and calls get none)
            return;
        }
        c.traceHigh = idIsRequestId ? idBits[0] : newTraceId64();
        c.sampled = true;
    }
    c.debug = in.debug;
    c.spanId = newTraceId64();
    if (idIsRequestId) {
        trace.traceIsRequestId = true;
        std::memcpy(trace.traceHex, generatedId.data(), 32);
    } else if (c.traceHigh != 0) {
        writeHex(trace.traceHex, c.traceHigh);
        writeHex(trace.traceHex + 16, c.traceLow);
    } else {
        writeHex(trace.traceHex, c.traceLow);
    }
    trace.traceHexLength = c.traceHigh != 0 || idIsRequestId ? 32 : 16;
    writeHex(trace.spanHex, c.spanId);
}

}  // namespace berth::server
