#include "metrics_page.h"

#include <Poco/Environment.h>

#include "app/build_info.h"
#include "process_metrics.h"
#include "prometheus_text.h"

namespace berth::server {

void MetricsPage::add(Source source) {
    sources_.push_back(std::move(source));
}

void MetricsPage::setSpanQueue(std::function<SpanQueueStats()> stats) {
    spanQueue_ = std::move(stats);
}

std::string MetricsPage::render() const {
    std::string out;
    out.reserve(16 * 1024);
    PrometheusText text(out);
    renderBuildInfo(text);
    renderProcessMetrics(text);
    for (const Source& source : sources_) source(text);
    if (spanQueue_) {
        SpanQueueStats spans = spanQueue_();
        text.family("berth_trace_spans_queued", "gauge",
                    "Finished spans waiting to be sent to the collector.");
        text.sample("berth_trace_spans_queued").value(spans.queued);
        text.family("berth_trace_spans_dropped_total", "counter",
                    "Spans dropped because the reporter's queue was full.");
        text.sample("berth_trace_spans_dropped_total").value(spans.dropped);
    }
    return out;
}

void renderBuildInfo(PrometheusText& text) {
    // 0xAABBCCDD: major, minor, revision, patch.
    const unsigned poco = Poco::Environment::libraryVersion();
    const std::string pocoVersion = std::to_string(poco >> 24) + "." + std::to_string((poco >> 16) & 0xff) +
                                    "." + std::to_string((poco >> 8) & 0xff);
    text.family(
        "berth_build_info", "gauge",
        "Always 1; the labels tell what this berthd was built from and the Poco library it runs with.");
    text.sample("berth_build_info")
        .label("version", buildInfo().version)
        .label("commit", buildInfo().commit)
        .label("poco", pocoVersion)
        .value(1);
}

}  // namespace berth::server
