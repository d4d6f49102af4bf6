#pragma once
// The process_* families every Prometheus client library exports (same names and meanings, so
// existing dashboards work): start time, CPU seconds, resident memory, open and maximum file
// descriptors — read from /proc and getrusage/getrlimit when /metrics is asked, nothing per request.

namespace berth::server {

class PrometheusText;

void renderProcessMetrics(PrometheusText& text);

}  // namespace berth::server
