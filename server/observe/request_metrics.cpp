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
    series_.push_back({plugin, route, method});
    return series_.size() - 1;
}

RequestMetrics::Shard* RequestMetrics::createShard() {
    std::lock_guard<std::mutex> lock(shardsMutex_);
    shards_.push_back(std::make_unique<Shard>(series_.size()));
    return shards_.back().get();
}

void RequestMetrics::Shard::record(std::size_t index, int status, std::uint64_t durationUs) noexcept {
    Counters& c = counters_[index < counters_.size() ? index : 0];
    if (status >= 100 && status < 600) bump(c.byStatus[status], 1);
    std::size_t bucket = 0;
    while (bucket < kBucketCount && durationUs > kBucketsUs[bucket]) ++bucket;
    bump(c.buckets[bucket], 1);
    bump(c.sumUs, durationUs);
}

void RequestMetrics::render(std::string& out) const {
    std::lock_guard<std::mutex> lock(shardsMutex_);
    auto sum = [&](std::size_t series, auto field) {
        std::uint64_t total = 0;
        for (const auto& shard : shards_)
            total += field(shard->counters_[series]).load(std::memory_order_relaxed);
        return total;
    };
    char number[64];
    out +=
        "# HELP berth_http_requests_total HTTP requests answered, by plugin, route pattern, method and "
        "status.\n";
    out += "# TYPE berth_http_requests_total counter\n";
    for (std::size_t i = 0; i < series_.size(); ++i) {
        for (int status = 100; status < 600; ++status) {
            std::uint64_t count = sum(
                i, [status](const Counters& c) -> auto& { return c.byStatus[status]; });
            if (count == 0) continue;
            out += "berth_http_requests_total{";
            appendLabels(out, series_[i]);
            std::snprintf(number, sizeof number, ",status=\"%d\"} %llu\n", status,
                          static_cast<unsigned long long>(count));
            out += number;
        }
    }
    out += "# HELP berth_http_request_duration_seconds Time from a request's first byte to its answer.\n";
    out += "# TYPE berth_http_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < series_.size(); ++i) {
        std::uint64_t buckets[kBucketCount + 1];
        std::uint64_t total = 0;
        for (std::size_t b = 0; b <= kBucketCount; ++b)
            total += buckets[b] = sum(
                i, [b](const Counters& c) -> auto& { return c.buckets[b]; });
        if (total == 0) continue;
        const Series& s = series_[i];
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b <= kBucketCount; ++b) {
            cumulative += buckets[b];
            out += "berth_http_request_duration_seconds_bucket{";
            appendLabels(out, s);
            if (b < kBucketCount)
                std::snprintf(number, sizeof number, ",le=\"%g\"} %llu\n", kBucketsUs[b] / 1e6,
                              static_cast<unsigned long long>(cumulative));
            else
                std::snprintf(number, sizeof number, ",le=\"+Inf\"} %llu\n",
                              static_cast<unsigned long long>(cumulative));
            out += number;
        }
        out += "berth_http_request_duration_seconds_sum{";
        appendLabels(out, s);
        std::snprintf(number, sizeof number, "} %.6f\n",
                      sum(
                          i, [](const Counters& c) -> auto& { return c.sumUs; }) /
                          1e6);
        out += number;
        out += "berth_http_request_duration_seconds_count{";
        appendLabels(out, s);
        std::snprintf(number, sizeof number, "} %llu\n", static_cast<unsigned long long>(cumulative));
        out += number;
    }
    out += "# HELP berth_http_requests_in_flight Requests being handled now.\n";
    out += "# TYPE berth_http_requests_in_flight gauge\n";
    std::int64_t inFlight = 0;
    for (const auto& shard : shards_) inFlight += shard->inFlight_.load(std::memory_order_relaxed);
    std::snprintf(number, sizeof number, "berth_http_requests_in_flight %lld\n",
                  static_cast<long long>(inFlight));
    out += number;
}

}  // namespace berth::server
