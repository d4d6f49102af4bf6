#include "host_tracer.h"

#include "span_scope.h"
#include "trace_state.h"

namespace berth::server {
namespace {

SpanScope* scope(void* span) {
    return static_cast<SpanScope*>(span);
}
const SpanScope* scope(const void* span) {
    return static_cast<const SpanScope*>(span);
}

SpanKind kindOf(Span::Kind kind) {
    switch (kind) {
        case Span::Kind::Client:
            return SpanKind::Client;
        case Span::Kind::Producer:
            return SpanKind::Producer;
        case Span::Kind::Consumer:
            return SpanKind::Consumer;
        case Span::Kind::Local:
            break;
    }
    return SpanKind::Local;
}

}  // namespace

void* HostTracer::start(std::string_view name, Span::Kind kind) {
    // A plugin's span outside a request (its own thread) starts a trace of its own.
    return new SpanScope(name, kindOf(kind), {}, SpanScope::Parent::OrNewTrace);
}

bool HostTracer::recording(const void* span) const noexcept {
    return scope(span)->recording();
}

void HostTracer::tag(void* span, std::string_view key, std::string_view value) {
    scope(span)->tag(key, value);
}

void HostTracer::remoteService(void* span, std::string_view name) {
    scope(span)->remoteService(name);
}

void HostTracer::error(void* span, std::string_view message) {
    scope(span)->error(message);
}

void HostTracer::finish(void* span) noexcept {
    delete scope(span);  // finishes it
}

TraceIds HostTracer::ids(const void* span) const {
    std::optional<TraceContext> context =
        span != nullptr ? scope(span)->propagationContext() : currentPropagationContext();
    TraceIds ids;
    if (!context || !context->hasTraceId()) return ids;
    ids.traceId = traceIdHex(*context);
    ids.spanId = spanIdHex(context->spanId);
    ids.sampled = context->sampled;
    return ids;
}

berth::TraceHeaders HostTracer::outgoingHeaders(const void* span) const {
    if (span != nullptr) return scope(span)->outgoingHeaders();
    std::optional<TraceContext> context = currentPropagationContext();
    return context ? propagationHeaders(*context, currentTraceState()) : berth::TraceHeaders();
}

}  // namespace berth::server
