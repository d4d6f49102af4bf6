#pragma once
// The W3C `tracestate` a request passes on. When the caller's trace context came from
// `traceparent`, its `tracestate` — the tracing vendors' own entries (W3C Trace Context §3.3) —
// goes, unchanged, into every downstream call the request makes: on the handler's thread and in
// its berth::gather tasks (fanout/carried_context.h). Like the current span (current_span.h) it is
// a thread-local view, set for the handler's duration, and only for a request that sent one.

#include <string>
#include <string_view>
#include <vector>

#include "berth/request.h"
#include "propagation.h"

namespace berth::server {

namespace detail {
// Constant-initialised, as current_span.h's pointer: an access is one %fs-relative load.
inline thread_local std::string_view currentTraceState;
}  // namespace detail

/// The tracestate calls made now pass on; empty when there is none.
inline std::string_view currentTraceState() noexcept {
    return detail::currentTraceState;
}

/// Makes `state` (a view: it must outlive the scope) the thread's tracestate for its lifetime,
/// then restores the previous one.
class TraceStateScope {
  public:
    explicit TraceStateScope(std::string_view state) noexcept : previous_(detail::currentTraceState) {
        detail::currentTraceState = state;
    }
    ~TraceStateScope() { detail::currentTraceState = previous_; }
    TraceStateScope(const TraceStateScope&) = delete;
    TraceStateScope& operator=(const TraceStateScope&) = delete;

  private:
    std::string_view previous_;
};

/// What a request with these headers passes on: its `tracestate` fields joined with "," (one list,
/// as W3C asks of several fields) when its context came from `traceparent` (extractTrace) and the
/// list is well-formed (isValidTraceState); empty otherwise. A malformed list is dropped whole, as
/// W3C allows: the trace itself goes on.
std::string passedTraceState(const TraceHeaderViews& noted, const std::vector<Header>& headers);

/// The request's passedTraceState(), current for the handler's duration (http/pipeline.cpp).
class RequestTraceState {
  public:
    RequestTraceState(const TraceHeaderViews& noted, const std::vector<Header>& headers)
        : value_(passedTraceState(noted, headers)), scope_(value_) {}

  private:
    std::string value_;
    TraceStateScope scope_;
};

}  // namespace berth::server
