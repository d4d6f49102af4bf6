#pragma once
// Tracing as berthd runs it (tracing.enabled): the reporter and its queue, the per-request
// decision, and the hooks through which host spans (span_scope.h) and plugin spans (berth/trace.h)
// reach the queue. One object for the serve() scope:
//
//     std::unique_ptr<Tracing> tracing;
//     if (settings.tracing.enabled) tracing = std::make_unique<Tracing>(settings.tracing, logger);
//     pipeline.setRequestTracer(&tracing->requestTracer());   // the request path
//     observers.spans = &tracing->queue();                   // the I/O loops' server spans
//     ... serve ...
//     tracing->stop();   // after the engine stopped: delivers what is queued
//
// For /metrics: tracing->reporter().queued() (spans waiting), .dropped() (never reported),
// .reported().

#include <memory>

#include "host_tracer.h"
#include "request_tracer.h"
#include "span_reporter.h"
#include "trace_settings.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class Tracing {
  public:
    /// Opens tracing.file (throws std::system_error when it cannot), starts the reporter thread and
    /// installs the hooks.
    Tracing(const TraceSettings& settings, Poco::Logger& logger);
    ~Tracing();
    Tracing(const Tracing&) = delete;
    Tracing& operator=(const Tracing&) = delete;

    /// Removes the hooks (spans started later are not recorded), then delivers what is queued
    /// within tracing.shutdown_timeout_ms. Idempotent.
    void stop();

    const RequestTracer& requestTracer() const noexcept { return requestTracer_; }
    SpanQueue& queue() noexcept { return reporter_.queue(); }
    SpanReporter& reporter() noexcept { return reporter_; }
    const SpanReporter& reporter() const noexcept { return reporter_; }

  private:
    SpanReporter reporter_;
    RequestTracer requestTracer_;
    HostTracer hostTracer_;
    bool stopped_ = false;
};

}  // namespace berth::server
