#pragma once
// The part of a thread's state that belongs to the request it serves — plugin, request id, trace
// and span ids — copied on the thread that starts parallel tasks (berth::gather) and set on the
// threads that run them, so that their log lines and downstream calls still name the request.
// Copied, not viewed: a task may outlive the handler (after a gather timeout).

#include <optional>
#include <string>

#include "../observe/log_context.h"
#include "../trace/current_span.h"
#include "../trace/trace_context.h"

namespace berth::server {

struct CarriedContext {
    const char* plugin = nullptr;  // route-table text, which outlives every request
    std::string requestId;
    std::string traceId;
    std::string spanId;
    std::optional<TraceContext> span;  // the current span: spans the task opens are its children

    /// What the calling thread serves now (all empty outside a request).
    static CarriedContext capture();
};

/// Makes `carried` the thread's context for its lifetime, then restores what was there.
class CarriedContextScope {
  public:
    explicit CarriedContextScope(const CarriedContext& carried) noexcept;
    CarriedContextScope(const CarriedContextScope&) = delete;
    CarriedContextScope& operator=(const CarriedContextScope&) = delete;

  private:
    LogContextScope log_;
    CurrentSpanScope span_;
};

}  // namespace berth::server
