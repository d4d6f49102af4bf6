#include "carried_context.h"

#include "../trace/span_scope.h"

namespace berth::server {

CarriedContext CarriedContext::capture() {
    const LogContext& now = currentLogContext();
    CarriedContext carried;
    carried.plugin = now.plugin;
    carried.requestId = std::string(now.requestId);
    carried.traceId = std::string(now.traceIdView());
    carried.spanId = std::string(now.spanIdView());
    carried.span = currentPropagationContext();
    carried.traceState = std::string(currentTraceState());
    return carried;
}

CarriedContextScope::CarriedContextScope(const CarriedContext& carried) noexcept
    : log_(carried.plugin, carried.requestId),
      span_(carried.span ? &*carried.span : nullptr),
      traceState_(carried.traceState) {
    // The current span also names itself in the log context; without one, the ids the caller's
    // log lines had are kept all the same.
    if (!carried.span) setLogTraceIds(carried.traceId, carried.spanId);
}

}  // namespace berth::server
