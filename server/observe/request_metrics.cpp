#include "request_metrics.h"

#include "prometheus_text.h"

namespace berth::server {
namespace {

// One (series, status) summed over the shards.
struct Totals {
    std::uint64_t buckets[RequestMetrics::kBucketCount + 1] = {};
    std::uint64_t sumUs = 0;
    std::uint64_t count() const {
        std::uint64_t n = 0;
        for (std::uint64_t b : buckets) n += b;
        return n;
    }
};

void addTo(Totals& totals, const RequestMetrics::StatusCounters& c) {
    for (std::size_t b = 0; b <= RequestMetrics::kBucketCount; ++b)
        totals.buckets[b] += c.buckets[b].load(std::memory_order_relaxed);
    totals.sumUs += c.sumUs.load(std::memory_order_relaxed);
}

PrometheusText& seriesLabels(PrometheusText& text, const RequestMetrics::Series& s) {
    return text.label("plugin", s.plugin).label("route", s.route).label("method", s.method);
}

// Statuses outside 100-599 (a host bug) are summed under one "other" series.
std::uint32_t statusKey(std::uint32_t status) {
    return status >= 100 && status <= 599 ? status : RequestMetrics::kOtherStatus;
}

std::string statusLabel(std::uint32_t status) {
    return status == RequestMetrics::kOtherStatus ? "other" : std::to_string(status);
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

inline void RequestMetrics::Shard::count(StatusCounters& c, std::uint64_t durationUs) noexcept {
    std::size_t bucket = 0;
    while (bucket < kBucketCount && durationUs > kBucketsUs[bucket]) ++bucket;
    bump(c.buckets[bucket], 1);
    bump(c.sumUs, durationUs);
}

void RequestMetrics::Shard::record(std::size_t series, int status, std::uint64_t durationUs) noexcept {
    // No range check here: render() folds statuses outside 100-599 into "other". Only 0 must not
    // be stored, as it marks a free slot.
    std::uint32_t key = static_cast<std::uint32_t>(status);
    if (key == 0) key = kOtherStatus;
    if (series >= slots_.size()) series = 0;
    for (StatusCounters& slot : slots_[series]) {
        std::uint32_t held = slot.status.load(std::memory_order_relaxed);
        if (held == key) return count(slot, durationUs);
        if (held == 0) {  // render() reads the status with acquire, then the (zero) buckets
            slot.status.store(key, std::memory_order_release);
            return count(slot, durationUs);
        }
    }
    recordOverflow(series, key, durationUs);
}

void RequestMetrics::Shard::recordOverflow(std::size_t series, std::uint32_t status,
                                           std::uint64_t durationUs) noexcept {
    StatusCounters* c = nullptr;
    {
        std::lock_guard<std::mutex> lock(overflowMutex_);
        try {
            c = &overflow_.try_emplace({series, status}).first->second;
        } catch (...) {
            return;  // out of memory: this one request goes uncounted rather than end berthd
        }
    }
    count(*c, durationUs);  // map nodes never move: bumped after the lock is let go
}

void RequestMetrics::render(std::string& out) const {
    PrometheusText text(out);
    render(text);
}

void RequestMetrics::render(PrometheusText& text) const {
    // Sum the shards once: per series, its statuses in ascending order.
    std::vector<std::map<std::uint32_t, Totals>> all(series_.size());
    std::int64_t inFlight = 0;
    {
        std::lock_guard<std::mutex> lock(shardsMutex_);
        for (const auto& shard : shards_) {
            for (std::size_t i = 0; i < series_.size() && i < shard->slots_.size(); ++i)
                for (const StatusCounters& slot : shard->slots_[i]) {
                    std::uint32_t status = slot.status.load(std::memory_order_acquire);
                    if (status != 0) addTo(all[i][statusKey(status)], slot);
                }
            std::lock_guard<std::mutex> overflowLock(shard->overflowMutex_);
            for (const auto& [key, counters] : shard->overflow_)
                if (key.first < all.size()) addTo(all[key.first][statusKey(key.second)], counters);
            inFlight += shard->inFlight_.load(std::memory_order_relaxed);
        }
    }

    text.family("berth_http_requests_total", "counter",
                "HTTP requests answered, by plugin, route pattern, method and status (plugin and route "
                "empty: host endpoints and requests that matched no route).");
    for (std::size_t i = 0; i < series_.size(); ++i)
        for (const auto& [status, totals] : all[i]) {
            std::uint64_t count = totals.count();
            if (count == 0) continue;
            seriesLabels(text.sample("berth_http_requests_total"), series_[i])
                .label("status", statusLabel(status))
                .value(count);
        }

    text.family(
        "berth_http_request_duration_seconds", "histogram",
        "Time from a request's first byte to its answer, by plugin, route pattern, method and status.");
    std::string le;
    for (std::size_t i = 0; i < series_.size(); ++i)
        for (const auto& [status, totals] : all[i]) {
            std::uint64_t count = totals.count();
            if (count == 0) continue;
            const std::string statusText = statusLabel(status);
            std::uint64_t cumulative = 0;
            for (std::size_t b = 0; b <= kBucketCount; ++b) {
                cumulative += totals.buckets[b];
                le.clear();
                if (b < kBucketCount)
                    PrometheusText::appendDouble(le, static_cast<double>(kBucketsUs[b]) / 1e6);
                else
                    le = "+Inf";
                seriesLabels(text.sample("berth_http_request_duration_seconds_bucket"), series_[i])
                    .label("status", statusText)
                    .label("le", le)
                    .value(cumulative);
            }
            seriesLabels(text.sample("berth_http_request_duration_seconds_sum"), series_[i])
                .label("status", statusText)
                .value(static_cast<double>(totals.sumUs) / 1e6);
            seriesLabels(text.sample("berth_http_request_duration_seconds_count"), series_[i])
                .label("status", statusText)
                .value(count);
        }

    text.family("berth_http_requests_in_flight", "gauge", "Requests being handled now.");
    text.sample("berth_http_requests_in_flight").value(inFlight);
}

}  // namespace berth::server
