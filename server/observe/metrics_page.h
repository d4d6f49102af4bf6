#pragma once
// GET /metrics: the Prometheus text of every part of berthd in one answer. Host-wide families
// (berth_build_info, process_*) come first, then what each subsystem registered (requests,
// databases, cache, I/O loops, access log), then the span queue of the tracing reporter.
//
//     MetricsPage page;
//     page.add([&metrics](PrometheusText& text) { metrics.render(text); });
//     page.setSpanQueue([&reporter] { return SpanQueueStats{reporter.queued(), reporter.dropped()}; });
//     std::string body = page.render();
//
// Register everything before serving; render() may then run on several threads at once.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace berth::server {

class PrometheusText;

/// What the tracing reporter tells /metrics about its queue.
struct SpanQueueStats {
    std::uint64_t queued = 0;   // spans waiting to be sent now
    std::uint64_t dropped = 0;  // spans dropped since start because the queue was full
};

class MetricsPage {
  public:
    /// Writes whole families (HELP, TYPE, samples) that no other source writes.
    using Source = std::function<void(PrometheusText&)>;

    /// Sources render in the order they were added.
    void add(Source source);
    /// berth_trace_spans_queued (gauge) and berth_trace_spans_dropped_total (counter) from `stats`;
    /// both families are absent until this is called (no tracing reporter, no span queue).
    void setSpanQueue(std::function<SpanQueueStats()> stats);

    /// The whole page, Prometheus text format 0.0.4.
    std::string render() const;
    static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  private:
    std::vector<Source> sources_;
    std::function<SpanQueueStats()> spanQueue_;
};

/// berth_build_info{version,commit,poco} 1: what this berthd was built from, and the Poco library
/// it runs with.
void renderBuildInfo(PrometheusText& text);

}  // namespace berth::server
