#pragma once
// Request counts and latency histograms per route, method and status, rendered as Prometheus
// text by GET /metrics. Each I/O loop counts into its own shard (one writer, plain stores, no
// cache line shared with another loop); /metrics sums the shards.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
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

    /// One series per (plugin, route pattern, method); index 0 is for requests that matched no
    /// route (host endpoints, 404s, refusals).
    struct Series {
        std::string plugin;
        std::string route;
        std::string method;
    };

    /// Counters of one series in one shard.
    struct Counters {
        std::atomic<std::uint64_t> byStatus[600]{};
        std::atomic<std::uint64_t> buckets[kBucketCount + 1]{};  // the last one is +Inf
        std::atomic<std::uint64_t> sumUs{0};
    };

    /// One producing thread's counters. Only that thread writes them, so an increment is a
    /// relaxed load and store (atomic only so that /metrics may read them meanwhile).
    class alignas(64) Shard {  // its own cache line: loops do not share one
      public:
        explicit Shard(std::size_t seriesCount) : counters_(seriesCount) {}
        void record(std::size_t series, int status, std::uint64_t durationUs) noexcept;
        void inFlightAdd(int delta) noexcept { bump(inFlight_, delta); }

      private:
        friend class RequestMetrics;
        template <typename T, typename D>
        static void bump(std::atomic<T>& counter, D delta) noexcept {
            counter.store(counter.load(std::memory_order_relaxed) + static_cast<T>(delta),
                          std::memory_order_relaxed);
        }

        std::vector<Counters> counters_;
        std::atomic<std::int64_t> inFlight_{0};
    };

    RequestMetrics();

    /// Gives each mounted route its series; call before the first createShard().
    std::size_t addRoute(const std::string& plugin, const std::string& route, const std::string& method);
    /// One per producing thread (each I/O loop); valid until the RequestMetrics is destroyed.
    Shard* createShard();

    /// Prometheus text exposition format 0.0.4.
    void render(std::string& out) const;

  private:
    std::vector<Series> series_;
    mutable std::mutex shardsMutex_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace berth::server
