#include "span_scope.h"

#include <Poco/Net/NameValueCollection.h>

#include <algorithm>
#include <atomic>

#include "span_queue.h"
#include "trace_clock.h"
#include "trace_state.h"

namespace berth::server {
namespace {

std::atomic<SpanQueue*> gQueue{nullptr};
std::atomic<std::uint64_t> gThreshold{0};
std::atomic<bool> gSampleAll{false};

// Bounds of one span, so that a queue of tracing.queue_size spans has a bounded size too.
constexpr std::size_t kMaxName = 1024;
constexpr std::size_t kMaxTagKey = 256;
constexpr std::size_t kMaxTagValue = 8192;
constexpr std::size_t kMaxTags = 64;

template <class Length>
void appendPiece(std::string& out, std::string_view text) {
    auto length = static_cast<Length>(text.size());
    out.append(reinterpret_cast<const char*>(&length), sizeof length);
    out.append(text.data(), text.size());
}

}  // namespace

void installSpanSink(SpanQueue* queue, Sampler sampler) noexcept {
    gThreshold.store(sampler.threshold, std::memory_order_relaxed);
    gSampleAll.store(sampler.all, std::memory_order_relaxed);
    gQueue.store(queue, std::memory_order_release);
}

namespace {

bool sampleNewTrace(std::uint64_t traceLow) noexcept {
    return Sampler{gThreshold.load(std::memory_order_relaxed), gSampleAll.load(std::memory_order_relaxed)}
        .sample(traceLow);
}

// Fills `context` as a child of the thread's current span (or a new trace); false when there is
// nothing to be current (tracing off, or no current span and `parent` requires one).
bool childOfCurrent(TraceContext& context, SpanScope::Parent parent) noexcept {
    if (gQueue.load(std::memory_order_acquire) == nullptr) return false;
    const TraceContext* current = currentSpan();
    if (current == nullptr) {
        if (parent == SpanScope::Parent::Required) return false;
        context.traceHigh = newTraceId64();
        context.traceLow = newTraceId64();
        context.spanId = newTraceId64();
        context.sampled = sampleNewTrace(context.traceLow);
        return true;
    }
    // Not sampled: nothing to record, and the current span stays what calls pass on.
    if (!current->sampled || !current->hasTraceId()) return false;
    context = *current;
    context.parentId = current->spanId;
    context.spanId = newTraceId64();
    return true;
}

}  // namespace

SpanScope::SpanScope(std::string_view name, SpanKind kind, std::string_view remoteService, Parent parent)
    : kind_(kind), current_(childOfCurrent(context_, parent) ? &context_ : nullptr) {
    recording_ = current_.active() && context_.sampled;
    if (!recording_) return;
    if (context_.debug) flags_ |= kSpanDebug;
    name_.assign(name.substr(0, kMaxName));
    remote_.assign(remoteService.substr(0, kMaxName));
    startUs_ = steadyMicros();
}

SpanScope& SpanScope::tag(std::string_view key, std::string_view value) {
    if (!recording_ || finished_ || tagCount_ >= kMaxTags) return *this;
    appendPiece<std::uint16_t>(tags_, key.substr(0, kMaxTagKey));
    appendPiece<std::uint32_t>(tags_, value.substr(0, kMaxTagValue));
    ++tagCount_;
    return *this;
}

SpanScope& SpanScope::error(std::string_view message) {
    if (!recording_ || (flags_ & kSpanError)) return *this;  // the first error is the one that counts
    flags_ |= kSpanError;
    return tag("error", message.empty() ? std::string_view("true") : message);
}

SpanScope& SpanScope::remoteService(std::string_view name) {
    if (recording_ && !finished_) remote_.assign(name.substr(0, kMaxName));
    return *this;
}

void SpanScope::finish() noexcept {
    if (finished_) return;
    finished_ = true;
    current_.restore();
    if (!recording_) return;
    SpanQueue* queue = gQueue.load(std::memory_order_acquire);
    if (queue == nullptr) return;  // tracing stopped meanwhile
    try {
        GenericSpanRecord record;
        record.kind = kind_;
        record.flags = flags_;
        record.traceHigh = context_.traceHigh;
        record.traceLow = context_.traceLow;
        record.spanId = context_.spanId;
        record.parentId = context_.parentId;
        record.startUs = startUs_;
        record.durationUs = spanDurationUs(steadyMicros() - startUs_);
        std::string body;
        body.reserve(4 + name_.size() + remote_.size() + tags_.size());
        appendPiece<std::uint16_t>(body, name_);
        appendPiece<std::uint16_t>(body, remote_);
        body += tags_;
        record.bodyLength = static_cast<std::uint32_t>(body.size());
        queue->push(queue->sharedShard(), &record, sizeof record, body);
    } catch (...) {
        queue->countDropped(1);  // out of memory: the span is lost, the work it measured is not
    }
}

std::optional<TraceContext> SpanScope::propagationContext() const noexcept {
    if (current_.active()) return context_;
    return currentPropagationContext();
}

void SpanScope::injectHeaders(Poco::Net::NameValueCollection& headers) const {
    if (std::optional<TraceContext> context = propagationContext()) injectTraceHeaders(*context, headers);
}

HeaderList SpanScope::outgoingHeaders() const {
    std::optional<TraceContext> context = propagationContext();
    return context ? propagationHeaders(*context, currentTraceState()) : HeaderList();
}

void injectTraceHeaders(const TraceContext& context, Poco::Net::NameValueCollection& headers) {
    // A caller's own (stale) B3 headers must not survive next to ours.
    for (const char* name : {"X-B3-TraceId", "X-B3-SpanId", "X-B3-ParentSpanId", "X-B3-Sampled", "X-B3-Flags",
                             "b3", "traceparent", "tracestate"})
        headers.erase(name);
    for (auto& [name, value] : propagationHeaders(context, currentTraceState())) headers.set(name, value);
}

void injectCurrentTraceHeaders(Poco::Net::NameValueCollection& headers) {
    if (std::optional<TraceContext> context = currentPropagationContext())
        injectTraceHeaders(*context, headers);
}

std::optional<TraceContext> currentPropagationContext() noexcept {
    if (const TraceContext* current = currentSpan()) return *current;
    return std::nullopt;
}

}  // namespace berth::server
