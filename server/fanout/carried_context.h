#pragma once
// The part of a thread's state that belongs to the request it serves — plugin, request id, trace
// and span ids, the current span and the tracestate to pass on — copied on the thread that starts
// parallel tasks (berth::gather) and set on the threads that run them, so that their log lines,
// spans and downstream calls still belong to the request. Copied, not viewed: a task may outlive
// the handler (after a gather timeout), and then it must not read the request's storage.

#include <optional>
#include <string>

#include "../observe/log_context.h"
#include "../trace/current_span.h"
#include "../trace/trace_context.h"
#include "../trace/trace_state.h"

namespace berth::server {

struct CarriedContext {
    const char* plugin = nullptr;  // route-table text, which outlives every request
    std::string requestId;
    std::string traceId;
    std::string spanId;
    std::optional<TraceContext> span;  // the current span: spans the task opens are its children
    std::string traceState;            // a traceparent caller's tracestate (trace_state.h)

    /// What the calling thread serves now (all empty outside a request).
    static CarriedContext capture();
};

/// Makes `carried` (which must outlive the scope) the thread's context for its lifetime, then
/// restores what was there.
class CarriedContextScope {
  public:
    explicit CarriedContextScope(const CarriedContext& carried) noexcept;
    CarriedContextScope(const CarriedContextScope&) = delete;
    CarriedContextScope& operator=(const CarriedContextScope&) = delete;

  private:
    LogContextScope log_;
    CurrentSpanScope span_;
    TraceStateScope traceState_;
};

}  // namespace berth::server
