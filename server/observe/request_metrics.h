#pragma once
// Request counts and latency histograms per route, method and status, recorded with relaxed
// atomic increments on the request path and rendered as Prometheus text by GET /metrics.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace berth::server {

struct Route;

class RequestMetrics {
  public:
    /// Latency bucket upper bounds, in microseconds (Prometheus `le` labels are in seconds).
    static constexpr std::uint64_t kBucketsUs[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                                   100000, 250000, 500000, 1000000, 2500000, 10000000};
    static constexpr std::size_t kBucketCount = sizeof(kBucketsUs) / sizeof(kBucketsUs[0]);

    /// One series set per (plugin, route pattern, method); index 0 is for requests that matched
    /// no route (host endpoints, 404s, refusals).
    struct Series {
        std::string plugin;
        std::string route;
        std::string method;
        std::atomic<std::uint64_t> byStatus[600]{};
        std::atomic<std::uint64_t> buckets[kBucketCount + 1]{};  // the last one is +Inf
        std::atomic<std::uint64_t> sumUs{0};
    };

    RequestMetrics();

    /// Gives each mounted route its series; call before serving starts.
    std::size_t addRoute(const std::string& plugin, const std::string& route, const std::string& method);
    void record(std::size_t series, int status, std::uint64_t durationUs) noexcept;

    void inFlightAdd(int delta) noexcept { inFlight_.fetch_add(delta, std::memory_order_relaxed); }

    /// Prometheus text exposition format 0.0.4.
    void render(std::string& out) const;

  private:
    std::vector<std::unique_ptr<Series>> series_;
    std::atomic<std::int64_t> inFlight_{0};
};

}  // namespace berth::server
