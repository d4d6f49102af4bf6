#pragma once
// A span the host (or a plugin, through berth/trace.h) opens around one piece of work: a DB
// statement, a Redis round trip, a downstream HTTP call. It is a child of the thread's current
// span and becomes the current span itself until it finishes, so that what runs inside it nests
// under it. It records only inside a sampled trace; otherwise it costs a branch.
//
//     SpanScope span("GET", SpanKind::Client, "hospital-service");   // a downstream call
//     span.tag("http.path", "/patients/7");
//     span.injectHeaders(request);                                    // X-B3-*, b3, traceparent
//     ... send, receive ...
//     span.tag("http.status_code", "200");
//     if (failed) span.error("connection refused");
//     // finished (and queued) when it goes out of scope, or by finish()

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "current_span.h"
#include "propagation.h"
#include "span_record.h"
#include "trace_context.h"

namespace Poco::Net {
class NameValueCollection;
}

namespace berth::server {

class SpanQueue;

class SpanScope {
  public:
    /// What to do when the thread has no current span.
    enum class Parent {
        Required,   ///< nothing to record (host spans: a statement outside a request is not traced)
        OrNewTrace  ///< start a trace, sampled at tracing.sample_rate (plugin spans, e.g. a timer's)
    };

    SpanScope(std::string_view name, SpanKind kind, std::string_view remoteService = {},
              Parent parent = Parent::Required);
    ~SpanScope() { finish(); }
    SpanScope(const SpanScope&) = delete;
    SpanScope& operator=(const SpanScope&) = delete;

    /// True when this span will be reported.
    bool recording() const noexcept { return recording_; }
    /// Values are copied (at most 8 KiB each; longer ones are cut); ignored when not recording.
    SpanScope& tag(std::string_view key, std::string_view value);
    /// Marks the span failed: Zipkin's "error" tag with `message` ("true" when empty).
    SpanScope& error(std::string_view message);
    /// Sets where the span goes (remoteEndpoint.serviceName), e.g. the downstream service's name.
    SpanScope& remoteService(std::string_view name);
    /// Measures, queues and stops being current. Idempotent; the destructor calls it.
    void finish() noexcept;

    /// The context to pass on in a call made within this span: this span's when it records, the
    /// thread's current one otherwise (not sampled: the callee learns that, and gets the ids if
    /// there are any). nullopt outside a traced request.
    std::optional<TraceContext> propagationContext() const noexcept;
    /// Writes propagationContext() as headers into `headers` (injectTraceHeaders()).
    void injectHeaders(Poco::Net::NameValueCollection& headers) const;
    /// The same headers as a list (for the SDK).
    HeaderList outgoingHeaders() const;

  private:
    TraceContext context_;
    bool recording_ = false;
    bool finished_ = false;
    std::uint8_t flags_ = 0;
    SpanKind kind_;
    std::uint8_t tagCount_ = 0;
    std::int64_t startUs_ = 0;
    std::string name_;
    std::string remote_;
    std::string tags_;  // u16 key length, key, u32 value length, value — as queued
    CurrentSpanScope current_;
};

/// Sets propagationHeaders(context) in `headers` (a Poco::Net::HTTPRequest is one), with the
/// thread's tracestate (trace_state.h), replacing any of those names the caller set.
void injectTraceHeaders(const TraceContext& context, Poco::Net::NameValueCollection& headers);
/// The same for the thread's current span (nothing outside a traced request): for a call made
/// without a span of its own.
void injectCurrentTraceHeaders(Poco::Net::NameValueCollection& headers);

/// A copy of the thread's current span (nullopt outside a traced request), to carry to another
/// thread: there, `CurrentSpanScope scope(&*carried)` makes it current (spans opened under it
/// become its children; log lines name it).
std::optional<TraceContext> currentPropagationContext() noexcept;

/// Where spans go while tracing runs (null: nothing is recorded), and how the traces spans start
/// outside a request are sampled (tracing.sample_rate).
void installSpanSink(SpanQueue* queue, Sampler sampler) noexcept;

}  // namespace berth::server
