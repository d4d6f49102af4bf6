#include "tracing.h"

#include "span_scope.h"

namespace berth::server {

Tracing::Tracing(const TraceSettings& settings, Poco::Logger& logger)
    : reporter_(settings, logger), requestTracer_(Sampler::forRate(settings.sampleRate)) {
    reporter_.start();
    installSpanSink(&reporter_.queue(), Sampler::forRate(settings.sampleRate));
    Tracer::install(&hostTracer_);
}

Tracing::~Tracing() {
    stop();
}

void Tracing::stop() {
    if (stopped_) return;
    stopped_ = true;
    Tracer::install(nullptr);
    installSpanSink(nullptr, Sampler{});
    reporter_.stop();
}

}  // namespace berth::server
