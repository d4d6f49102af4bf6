#include "berth/trace.h"

#include <atomic>

namespace berth {
inline namespace v1 {
namespace {

std::atomic<Tracer*> gTracer{nullptr};

}  // namespace

Tracer::~Tracer() = default;

void Tracer::install(Tracer* tracer) noexcept {
    gTracer.store(tracer, std::memory_order_release);
}

Tracer* Tracer::installed() noexcept {
    return gTracer.load(std::memory_order_acquire);
}

TraceIds currentTrace() {
    Tracer* tracer = Tracer::installed();
    return tracer != nullptr ? tracer->ids(nullptr) : TraceIds{};
}

TraceHeaders currentTraceHeaders() {
    Tracer* tracer = Tracer::installed();
    return tracer != nullptr ? tracer->outgoingHeaders(nullptr) : TraceHeaders{};
}

// The tracer that opened a span also finishes it, even if another was installed meanwhile.
Span::Span(std::string_view name, Kind kind) : tracer_(Tracer::installed()) {
    if (tracer_ != nullptr) state_ = tracer_->start(name, kind);
}

Span::~Span() {
    finish();
}

bool Span::recording() const noexcept {
    return state_ != nullptr && tracer_->recording(state_);
}

Span& Span::tag(std::string_view key, std::string_view value) {
    if (state_ != nullptr) tracer_->tag(state_, key, value);
    return *this;
}

Span& Span::remoteService(std::string_view name) {
    if (state_ != nullptr) tracer_->remoteService(state_, name);
    return *this;
}

Span& Span::error(std::string_view message) {
    if (state_ != nullptr) tracer_->error(state_, message);
    return *this;
}

void Span::finish() noexcept {
    if (state_ == nullptr) return;
    void* state = state_;
    state_ = nullptr;
    tracer_->finish(state);
}

TraceIds Span::ids() const {
    if (state_ != nullptr) return tracer_->ids(state_);
    return currentTrace();
}

TraceHeaders Span::outgoingHeaders() const {
    if (state_ != nullptr) return tracer_->outgoingHeaders(state_);
    return currentTraceHeaders();
}

}  // namespace v1
}  // namespace berth
