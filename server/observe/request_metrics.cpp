#include "request_metrics.h"

#include <cstdio>

namespace berth::server {
namespace {

void appendLabelValue(std::string& out, const std::string& value) {
    for (char c : value) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
}

void appendLabels(std::string& out, const RequestMetrics::Series& s) {
    out += "plugin=\"";
    appendLabelValue(out, s.plugin);
    out += "\",route=\"";
    appendLabelValue(out, s.route);
    out += "\",method=\"";
    appendLabelValue(out, s.method);
    out += "\"";
}

}  // namespace

RequestMetrics::RequestMetrics() {
    addRoute("", "", "");
}

std::size_t RequestMetrics::addRoute(const std::string& plugin, const std::string& route,
                                     const std::string& method) {
    auto series = std::make_unique<Series>();
    series->plugin = plugin;
    series->route = route;
    series->method = method;
    series_.push_back(std::move(series));
    return series_.size() - 1;
}

void RequestMetrics::record(std::size_t index, int status, std::uint64_t durationUs) noexcept {
    Series& s = *series_[index < series_.size() ? index : 0];
    if (status >= 100 && status < 600) s.byStatus[status].fetch_add(1, std::memory_order_relaxed);
    std::size_t bucket = 0;
    while (bucket < kBucketCount && durationUs > kBucketsUs[bucket]) ++bucket;
    s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    s.sumUs.fetch_add(durationUs, std::memory_order_relaxed);
}

void RequestMetrics::render(std::string& out) const {
    char number[64];
    out +=
        "# HELP berth_http_requests_total HTTP requests answered, by plugin, route pattern, method and "
        "status.\n";
    out += "# TYPE berth_http_requests_total counter\n";
    for (const auto& s : series_) {
        for (int status = 100; status < 600; ++status) {
            std::uint64_t count = s->byStatus[status].load(std::memory_order_relaxed);
            if (count == 0) continue;
            out += "berth_http_requests_total{";
            appendLabels(out, *s);
            std::snprintf(number, sizeof number, ",status=\"%d\"} %llu\n", status,
                          static_cast<unsigned long long>(count));
            out += number;
        }
    }
    out += "# HELP berth_http_request_duration_seconds Time from a request's first byte to its answer.\n";
    out += "# TYPE berth_http_request_duration_seconds histogram\n";
    for (const auto& s : series_) {
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b <= kBucketCount; ++b)
            cumulative += s->buckets[b].load(std::memory_order_relaxed);
        if (cumulative == 0) continue;
        cumulative = 0;
        for (std::size_t b = 0; b <= kBucketCount; ++b) {
            cumulative += s->buckets[b].load(std::memory_order_relaxed);
            out += "berth_http_request_duration_seconds_bucket{";
            appendLabels(out, *s);
            if (b < kBucketCount)
                std::snprintf(number, sizeof number, ",le=\"%g\"} %llu\n", kBucketsUs[b] / 1e6,
                              static_cast<unsigned long long>(cumulative));
            else
                std::snprintf(number, sizeof number, ",le=\"+Inf\"} %llu\n",
                              static_cast<unsigned long long>(cumulative));
            out += number;
        }
        out += "berth_http_request_duration_seconds_sum{";
        appendLabels(out, *s);
        std::snprintf(number, sizeof number, "} %.6f\n", s->sumUs.load(std::memory_order_relaxed) / 1e6);
        out += number;
        out += "berth_http_request_duration_seconds_count{";
        appendLabels(out, *s);
        std::snprintf(number, sizeof number, "} %llu\n", static_cast<unsigned long long>(cumulative));
        out += number;
    }
    out += "# HELP berth_http_requests_in_flight Requests being handled now.\n";
    out += "# TYPE berth_http_requests_in_flight gauge\n";
    std::snprintf(number, sizeof number, "berth_http_requests_in_flight %lld\n",
                  static_cast<long long>(inFlight_.load(std::memory_order_relaxed)));
    out += number;
}

}  // namespace berth::server
