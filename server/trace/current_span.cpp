#include "current_span.h"

#include "../http/request_id.h"
#include "../observe/log_context.h"

namespace berth::server {
namespace {

// The one place that tells the log context (observe/log_context.h) which span is current.
void publishToLogContext(const TraceContext* context) noexcept {
    if (context == nullptr || !context->hasTraceId()) {
        static const char kNone[1] = {};  // not a null pointer: setLogTraceIds memcpy()s from it
        setLogTraceIds({kNone, 0}, {kNone, 0});
        return;
    }
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

}  // namespace

namespace {

bool hasIds(const TraceContext* context) noexcept {
    return context != nullptr && context->hasTraceId();
}

}  // namespace

CurrentSpanScope::CurrentSpanScope(const TraceContext* context) noexcept
    : previous_(detail::currentSpan), set_(context != nullptr) {
    if (!set_) return;
    detail::currentSpan = context;
    // Without ids on either side (a request not sampled), the log context has none to change.
    published_ = hasIds(context) || hasIds(previous_);
    if (published_) publishToLogContext(context);
}

CurrentSpanScope::CurrentSpanScope(const TraceContext* context, std::string_view traceHex,
                                   std::string_view spanHex) noexcept
    : previous_(detail::currentSpan), set_(context != nullptr) {
    if (!set_) return;
    detail::currentSpan = context;
    published_ = !traceHex.empty() || hasIds(previous_);
    if (published_) setLogTraceIds(traceHex, spanHex);
}

void CurrentSpanScope::restore() noexcept {
    if (!set_) return;
    set_ = false;
    detail::currentSpan = previous_;
    if (published_) publishToLogContext(previous_);
}

}  // namespace berth::server
