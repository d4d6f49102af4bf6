#pragma once
// Request counts and latency histograms per (plugin, route pattern, method, status), rendered as
// Prometheus text by GET /metrics. Each I/O loop counts into its own shard (one writer, plain
// stores, no cache line shared with another loop); /metrics sums the shards.
//
// A series keeps a few status slots in place, claimed by the statuses in the order they first
// occur; a request finds its slot with one or two comparisons, so splitting the histogram by status
// costs no more per request than the old count-by-status array did, in a fifth of the memory (1 KB
// per route and loop instead of 4.9 KB). A rare series that sees more distinct statuses than it has
// slots counts the rest in a map of its shard, under a lock only that shard's writer and /metrics take.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace berth::server {

class PrometheusText;

class RequestMetrics {
  public:
    /// Latency bucket upper bounds, in microseconds (Prometheus `le` labels are in seconds).
    static constexpr std::uint64_t kBucketsUs[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                                   100000, 250000, 500000, 1000000, 2500000, 10000000};
    static constexpr std::size_t kBucketCount = sizeof(kBucketsUs) / sizeof(kBucketsUs[0]);
    /// Distinct statuses a series counts in place per shard.
    static constexpr std::size_t kStatusSlots = 8;
    /// Statuses outside 100-599 (a host bug) are rendered together as status="other".
    static constexpr std::uint32_t kOtherStatus = 1000;

    /// One series per (plugin, route pattern, method); index 0 is for requests that matched no
    /// route (host endpoints, 404s, refusals).
    struct Series {
        std::string plugin;
        std::string route;
        std::string method;
    };

    /// One status of one series in one shard: its latency histogram (the count is the buckets' sum).
    struct StatusCounters {
        std::atomic<std::uint32_t> status{0};                    // 0: slot still free
        std::atomic<std::uint64_t> buckets[kBucketCount + 1]{};  // the last one is +Inf
        std::atomic<std::uint64_t> sumUs{0};
    };

    /// One producing thread's counters. Only that thread writes them, so an increment is a
    /// relaxed load and store (atomic only so that /metrics may read them meanwhile).
    class alignas(64) Shard {  // its own cache line: loops do not share one
      public:
        explicit Shard(std::size_t seriesCount) : slots_(seriesCount) {}
        void record(std::size_t series, int status, std::uint64_t durationUs) noexcept;
        void inFlightAdd(int delta) noexcept { bump(inFlight_, delta); }

      private:
        friend class RequestMetrics;
        using Slots = std::array<StatusCounters, kStatusSlots>;
        template <typename T, typename D>
        static void bump(std::atomic<T>& counter, D delta) noexcept {
            counter.store(counter.load(std::memory_order_relaxed) + static_cast<T>(delta),
                          std::memory_order_relaxed);
        }
        [[gnu::always_inline]] static void count(StatusCounters& c, std::uint64_t durationUs) noexcept;
        /// The rare path, out of line so that record() stays a leaf with nothing to save.
        [[gnu::noinline, gnu::cold]] void recordOverflow(std::size_t series, std::uint32_t status,
                                                         std::uint64_t durationUs) noexcept;

        std::vector<Slots> slots_;
        std::mutex overflowMutex_;
        std::map<std::pair<std::size_t, std::uint32_t>, StatusCounters> overflow_;
        std::atomic<std::int64_t> inFlight_{0};
    };

    RequestMetrics();

    /// Gives each mounted route its series; call before the first createShard().
    std::size_t addRoute(const std::string& plugin, const std::string& route, const std::string& method);
    /// One per producing thread (each I/O loop); valid until the RequestMetrics is destroyed.
    Shard* createShard();

    /// berth_http_requests_total, berth_http_request_duration_seconds, berth_http_requests_in_flight.
    void render(PrometheusText& text) const;
    void render(std::string& out) const;

  private:
    std::vector<Series> series_;
    mutable std::mutex shardsMutex_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace berth::server
