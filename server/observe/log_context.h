#pragma once
// What the thread is serving right now (plugin, request id, trace and span ids), so that a log
// line written anywhere below a handler can say which request it belongs to. The JSON log
// formatter reads it on the thread that logs; a channel that formats on another thread
// (Poco::AsyncChannel in front of the FormattingChannel) would see that thread's context.
//
// Set once per request around the handler call, so it is plain stores into a thread_local:
// a scope costs a handful of instructions and allocates nothing.
//
//     LogContextScope scope(mount.plugin.c_str(), request.requestId());
//     setLogTraceIds(traceIdHex, spanIdHex);   // the tracer, when a span starts or ends
//     logger.information("...");              // the formatter adds plugin, request_id, ...
//
// Structured fields do not go here: set them on the Poco::Message (message.set(name, value));
// the JSON formatter writes every parameter as a field of its own.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace berth::server {

struct LogContext {
    static constexpr std::size_t kMaxTraceId = 32;  // Zipkin B3: 16 or 32 lowercase hex digits
    static constexpr std::size_t kMaxSpanId = 16;

    /// nullptr outside a request. Points at text that outlives the scope (the route table's).
    const char* plugin = nullptr;
    /// Empty outside a request; the request's own storage, valid while its scope lives.
    std::string_view requestId;
    /// Copied (setLogTraceIds), as a span may end before the log line that follows it; or, for
    /// ids that outlive their being current (a request's own, setLogTraceIdViews), viewed where
    /// they are: `traceIdText`, `spanIdText` (null: the copies here).
    std::uint8_t traceIdLength = 0;
    std::uint8_t spanIdLength = 0;
    char traceId[kMaxTraceId] = {};
    char spanId[kMaxSpanId] = {};
    const char* traceIdText = nullptr;
    const char* spanIdText = nullptr;

    std::string_view traceIdView() const noexcept {
        return {traceIdText != nullptr ? traceIdText : traceId, traceIdLength};
    }
    std::string_view spanIdView() const noexcept {
        return {spanIdText != nullptr ? spanIdText : spanId, spanIdLength};
    }
};

namespace detail {
// Constant-initialised and defined inline, so an access is one %fs-relative address with no
// initialisation guard.
inline thread_local LogContext logContext;
}  // namespace detail

/// This thread's context (read by the log formatter; empty fields when no request is served).
inline const LogContext& currentLogContext() noexcept {
    return detail::logContext;
}

/// Sets the trace and span ids of the current span on this thread; empty views clear them.
/// Longer ids are cut to kMaxTraceId / kMaxSpanId. Call it when a span starts and again (with
/// the parent's ids, or empty) when it ends; LogContextScope clears them at the request's end.
inline void setLogTraceIds(std::string_view traceId, std::string_view spanId) noexcept {
    LogContext& context = detail::logContext;
    std::size_t traceLength =
        traceId.size() < LogContext::kMaxTraceId ? traceId.size() : LogContext::kMaxTraceId;
    std::size_t spanLength = spanId.size() < LogContext::kMaxSpanId ? spanId.size() : LogContext::kMaxSpanId;
    // The usual lengths as fixed-size moves: a copy of run-time length is inlined as `rep movsb`,
    // which costs more than these copies (they run on every traced request).
    if (traceLength == LogContext::kMaxTraceId)
        std::memcpy(context.traceId, traceId.data(), LogContext::kMaxTraceId);
    else
        std::memcpy(context.traceId, traceId.data(), traceLength);
    if (spanLength == LogContext::kMaxSpanId)
        std::memcpy(context.spanId, spanId.data(), LogContext::kMaxSpanId);
    else
        std::memcpy(context.spanId, spanId.data(), spanLength);
    context.traceIdLength = static_cast<std::uint8_t>(traceLength);
    context.spanIdLength = static_cast<std::uint8_t>(spanLength);
    context.traceIdText = nullptr;
    context.spanIdText = nullptr;
}

/// As setLogTraceIds, without copying: the text must stay as it is until the ids are set or
/// cleared again (a request's ids, current while its handler runs; four stores instead of copies).
inline void setLogTraceIdViews(std::string_view traceId, std::string_view spanId) noexcept {
    LogContext& context = detail::logContext;
    context.traceIdText = traceId.data();
    context.spanIdText = spanId.data();
    context.traceIdLength = static_cast<std::uint8_t>(
        traceId.size() < LogContext::kMaxTraceId ? traceId.size() : LogContext::kMaxTraceId);
    context.spanIdLength = static_cast<std::uint8_t>(
        spanId.size() < LogContext::kMaxSpanId ? spanId.size() : LogContext::kMaxSpanId);
}

/// No trace and span ids on this thread (setLogTraceIds with empty views, without the copies).
inline void clearLogTraceIds() noexcept {
    detail::logContext.traceIdLength = 0;
    detail::logContext.spanIdLength = 0;
}

/// Sets plugin (not null) and request id, and no trace ids, for its lifetime, then restores
/// what was there. The usual case, a request on a thread that served none, restores by
/// clearing; only a scope opened inside another one copies the outer context aside.
class LogContextScope {
  public:
    LogContextScope(const char* plugin, std::string_view requestId) noexcept {
        LogContext& context = detail::logContext;
        nested_ = context.plugin != nullptr;  // every scope sets one
        if (nested_) saved_ = context;
        context.plugin = plugin;
        context.requestId = requestId;
        context.traceIdLength = 0;
        context.spanIdLength = 0;
    }
    ~LogContextScope() {
        LogContext& context = detail::logContext;
        if (nested_) {
            context = saved_;
        } else {
            context.plugin = nullptr;
            context.requestId = {};
            context.traceIdLength = 0;
            context.spanIdLength = 0;
        }
    }
    LogContextScope(const LogContextScope&) = delete;
    LogContextScope& operator=(const LogContextScope&) = delete;

  private:
    bool nested_;
    // In a union so that the usual, unnested scope does not zero 64 bytes it never reads.
    union {
        LogContext saved_;  // written (and alive) only when nested_
    };
};

}  // namespace berth::server
