#pragma once
// berth::Tracer (berth/trace.h) as berthd implements it: a plugin's berth::Span is a SpanScope,
// so it nests with the host's own spans and ends up in the same queue.

#include "berth/trace.h"

namespace berth::server {

class HostTracer : public Tracer {
  public:
    void* start(std::string_view name, Span::Kind kind) override;
    bool recording(const void* span) const noexcept override;
    void tag(void* span, std::string_view key, std::string_view value) override;
    void remoteService(void* span, std::string_view name) override;
    void error(void* span, std::string_view message) override;
    void finish(void* span) noexcept override;
    TraceIds ids(const void* span) const override;
    berth::TraceHeaders outgoingHeaders(const void* span) const override;
};

}  // namespace berth::server
