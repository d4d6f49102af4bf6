#pragma once
// The span a thread works under right now: the request's server span while its handler runs
// (set around the handler call, on the I/O loop or the worker), or a child span opened below it.
// DB, Redis and downstream-call spans become children of it; the log context (observe/
// log_context.h) gets its trace and span ids, so log lines name them.
//
// A thread-local pointer: setting and restoring it is two stores, and nothing is allocated.

#include <string_view>

#include "../observe/log_context.h"
#include "trace_context.h"

namespace berth::server {

namespace detail {
// Constant-initialised, so an access is one %fs-relative load without an initialisation guard.
inline thread_local const TraceContext* currentSpan = nullptr;
}  // namespace detail

/// The thread's current span; nullptr outside a traced request. A context without a trace id
/// means: traced, not sampled, and the caller sent no ids (only "not sampled" is passed on).
inline const TraceContext* currentSpan() noexcept {
    return detail::currentSpan;
}

/// Makes `context` the thread's current span for its lifetime (a null context: no change), then
/// restores the previous one. `context` must outlive the scope.
class CurrentSpanScope {
  public:
    explicit CurrentSpanScope(const TraceContext* context) noexcept;
    /// The same, with the ids' hex already made (the request's, trace/request_tracer.h), which
    /// the log context views: it must outlive the scope. Inline: it runs around every traced
    /// request's handler.
    CurrentSpanScope(const TraceContext* context, std::string_view traceHex,
                     std::string_view spanHex) noexcept
        : previous_(detail::currentSpan), set_(context != nullptr) {
        if (!set_) return;
        detail::currentSpan = context;
        published_ = !traceHex.empty() || hasIds(previous_);
        if (published_) setLogTraceIdViews(traceHex, spanHex);
    }
    ~CurrentSpanScope() { restore(); }
    CurrentSpanScope(const CurrentSpanScope&) = delete;
    CurrentSpanScope& operator=(const CurrentSpanScope&) = delete;

    /// Whether the scope made a context current (and has not restored yet).
    bool active() const noexcept { return set_; }
    /// Restores the previous span now (spans end in the reverse order of their start); idempotent.
    void restore() noexcept {
        if (!set_) return;
        set_ = false;
        detail::currentSpan = previous_;
        if (!published_) return;
        if (hasIds(previous_))
            republish(previous_);
        else
            clearLogTraceIds();  // the usual end: a request's span, with none around it
    }

  private:
    static bool hasIds(const TraceContext* context) noexcept {
        return context != nullptr && context->hasTraceId();
    }
    /// Gives the log context the ids of `context` (which has them) again.
    static void republish(const TraceContext* context) noexcept;

    const TraceContext* previous_;
    bool set_;
    bool published_ = false;  // the log context's ids were changed (and must be restored)
};

}  // namespace berth::server
