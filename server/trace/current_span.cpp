#include "current_span.h"

#include "../http/request_id.h"

namespace berth::server {

void CurrentSpanScope::republish(const TraceContext* context) noexcept {
    char trace[32];
    char span[16];
    std::size_t traceLength = 16;
    if (context->traceHigh != 0) {
        writeHex(trace, context->traceHigh);
        writeHex(trace + 16, context->traceLow);
        traceLength = 32;
    } else {
        writeHex(trace, context->traceLow);
    }
    writeHex(span, context->spanId);
    setLogTraceIds({trace, traceLength}, {span, sizeof span});
}

CurrentSpanScope::CurrentSpanScope(const TraceContext* context) noexcept
    : previous_(detail::currentSpan), set_(context != nullptr) {
    if (!set_) return;
    detail::currentSpan = context;
    // Without ids on either side (a request not sampled), the log context has none to change.
    published_ = hasIds(context) || hasIds(previous_);
    if (!published_) return;
    if (hasIds(context))
        republish(context);
    else
        clearLogTraceIds();
}

}  // namespace berth::server
