// RequestMetrics: per-loop shards summed into one Prometheus text, series per route, method and
// status, cumulative latency buckets per status, statuses beyond a series' slots, and the in-flight
// gauge across shards.
#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <sstream>
#include <string>

#include "observe/prometheus_text.h"
#include "observe/request_metrics.h"
#include "test_helpers.h"

using berth::server::PrometheusText;
using berth::server::RequestMetrics;
using berth::test::contains;

namespace {

std::string render(const RequestMetrics& metrics) {
    std::string out;
    PrometheusText text(out);
    metrics.render(text);
    return out;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

class RequestMetricsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RequestMetricsTest);
    CPPUNIT_TEST(testShardsAreSummed);
    CPPUNIT_TEST(testBucketsAreCumulative);
    CPPUNIT_TEST(testHistogramSplitByStatus);
    CPPUNIT_TEST(testStatusesBeyondTheSlotsAreCounted);
    CPPUNIT_TEST(testInFlightAcrossShards);
    CPPUNIT_TEST(testUnknownSeriesCountsAsUnmatched);
    CPPUNIT_TEST(testLabelValuesEscaped);
    CPPUNIT_TEST(testEachFamilyOnceAndNoDuplicateSeries);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testShardsAreSummed() {
        RequestMetrics metrics;
        std::size_t route = metrics.addRoute("hello", "/greet/<name>", "GET");
        RequestMetrics::Shard* a = metrics.createShard();
        RequestMetrics::Shard* b = metrics.createShard();
        a->record(route, 200, 100);
        a->record(route, 200, 100);
        b->record(route, 200, 100);
        b->record(route, 404, 100);
        std::string text = render(metrics);
        const std::string labels = R"(plugin="hello",route="/greet/<name>",method="GET")";
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, "berth_http_requests_total{" + labels + ",status=\"200\"} 3\n"));
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, "berth_http_requests_total{" + labels + ",status=\"404\"} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_http_request_duration_seconds_count{" + labels +
                                                        ",status=\"200\"} 3\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_http_request_duration_seconds_sum{" + labels +
                                                        ",status=\"200\"} 0.0003\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_http_request_duration_seconds_count{" + labels +
                                                        ",status=\"404\"} 1\n"));
    }

    void testBucketsAreCumulative() {
        RequestMetrics metrics;
        std::size_t route = metrics.addRoute("p", "/r", "POST");
        RequestMetrics::Shard* a = metrics.createShard();
        RequestMetrics::Shard* b = metrics.createShard();
        a->record(route, 201, 400);       // ≤ 0.5 ms
        b->record(route, 201, 3000);      // ≤ 5 ms
        b->record(route, 201, 20000000);  // beyond the last bound: +Inf only
        std::string text = render(metrics);
        const std::string prefix =
            R"(berth_http_request_duration_seconds_bucket{plugin="p",route="/r",method="POST",status="201",le=)";
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"0.0005\"} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"0.0025\"} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"0.005\"} 2\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"10\"} 2\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"+Inf\"} 3\n"));
        // Every bound, in increasing order, then +Inf.
        CPPUNIT_ASSERT_EQUAL(RequestMetrics::kBucketCount + 1, occurrences(text, prefix));
        CPPUNIT_ASSERT_MESSAGE(text, text.find(prefix + "\"0.0005\"") < text.find(prefix + "\"0.001\""));
        CPPUNIT_ASSERT_MESSAGE(text, text.find(prefix + "\"10\"") < text.find(prefix + "\"+Inf\""));
    }

    // Slow errors must not hide in the latency of fast successes: each status has its own buckets.
    void testHistogramSplitByStatus() {
        RequestMetrics metrics;
        std::size_t route = metrics.addRoute("p", "/r", "GET");
        RequestMetrics::Shard* a = metrics.createShard();
        a->record(route, 200, 100);
        a->record(route, 200, 200);
        a->record(route, 504, 3000000);
        std::string text = render(metrics);
        const std::string ok =
            R"(berth_http_request_duration_seconds_bucket{plugin="p",route="/r",method="GET",status="200",le=)";
        const std::string slow =
            R"(berth_http_request_duration_seconds_bucket{plugin="p",route="/r",method="GET",status="504",le=)";
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, ok + "\"0.0005\"} 2\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, slow + "\"2.5\"} 0\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, slow + "\"10\"} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(
                text,
                R"(berth_http_request_duration_seconds_sum{plugin="p",route="/r",method="GET",status="504"} 3)"
                "\n"));
    }

    // More distinct statuses than a series has slots: the rest are counted too, exactly.
    void testStatusesBeyondTheSlotsAreCounted() {
        RequestMetrics metrics;
        std::size_t route = metrics.addRoute("p", "/r", "GET");
        RequestMetrics::Shard* a = metrics.createShard();
        const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 503};
        static_assert(sizeof(statuses) / sizeof(statuses[0]) > RequestMetrics::kStatusSlots);
        for (int round = 1; round <= 3; ++round)
            for (int status : statuses) a->record(route, status, 1000 * round);
        std::string text = render(metrics);
        for (int status : statuses) {
            const std::string labels =
                R"({plugin="p",route="/r",method="GET",status=")" + std::to_string(status) + "\"";
            CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_http_requests_total" + labels + "} 3\n"));
            CPPUNIT_ASSERT_MESSAGE(
                text, contains(text, "berth_http_request_duration_seconds_count" + labels + "} 3\n"));
            CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_http_request_duration_seconds_bucket" +
                                                            labels + ",le=\"0.001\"} 1\n"));
            CPPUNIT_ASSERT_MESSAGE(
                text, contains(text, "berth_http_request_duration_seconds_sum" + labels + "} 0.006\n"));
        }
        // In ascending order of status, wherever each was counted.
        CPPUNIT_ASSERT_MESSAGE(text, text.find("status=\"200\"") < text.find("status=\"503\""));
        CPPUNIT_ASSERT_MESSAGE(text, text.find("status=\"429\"") < text.find("status=\"500\""));
    }

    void testInFlightAcrossShards() {
        RequestMetrics metrics;
        RequestMetrics::Shard* a = metrics.createShard();
        RequestMetrics::Shard* b = metrics.createShard();
        a->inFlightAdd(1);
        a->inFlightAdd(1);
        b->inFlightAdd(1);
        a->inFlightAdd(-1);
        std::string text = render(metrics);
        CPPUNIT_ASSERT_MESSAGE(text, contains(text,
                                              "# TYPE berth_http_requests_in_flight gauge\n"
                                              "berth_http_requests_in_flight 2\n"));
    }

    void testUnknownSeriesCountsAsUnmatched() {
        RequestMetrics metrics;
        RequestMetrics::Shard* a = metrics.createShard();
        a->record(99, 503, 10);
        a->record(0, 999, 10);  // a status outside 100-599 (a host bug) is kept, as "other"
        std::string text = render(metrics);
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(text, R"(berth_http_requests_total{plugin="",route="",method="",status="503"} 1)"));
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(text, R"(berth_http_requests_total{plugin="",route="",method="",status="other"} 1)"));
        CPPUNIT_ASSERT_MESSAGE(text, !contains(text, "status=\"999\""));
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(
                text,
                R"(berth_http_request_duration_seconds_count{plugin="",route="",method="",status="503"} 1)"));
    }

    void testLabelValuesEscaped() {
        RequestMetrics metrics;
        std::size_t route = metrics.addRoute("q\"p", "/a\\b\nc/{x}", "GET");
        metrics.createShard()->record(route, 200, 1);
        std::string text = render(metrics);
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, R"({plugin="q\"p",route="/a\\b\nc/{x}",method="GET",status="200"} 1)"));
    }

    void testEachFamilyOnceAndNoDuplicateSeries() {
        RequestMetrics metrics;
        std::size_t get = metrics.addRoute("p", "/r", "GET");
        std::size_t post = metrics.addRoute("p", "/r", "POST");
        RequestMetrics::Shard* a = metrics.createShard();
        RequestMetrics::Shard* b = metrics.createShard();
        for (RequestMetrics::Shard* shard : {a, b})
            for (int status : {200, 404, 200, 500}) {
                shard->record(get, status, 10);
                shard->record(post, status, 10);
            }
        std::string text = render(metrics);
        for (const char* family :
             {"berth_http_requests_total counter", "berth_http_request_duration_seconds histogram",
              "berth_http_requests_in_flight gauge"}) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::size_t(1),
                                         occurrences(text, std::string("# TYPE ") + family + "\n"));
            std::string name = std::string(family).substr(0, std::string(family).find(' '));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::size_t(1), occurrences(text, "# HELP " + name + " "));
        }
        std::set<std::string> series;
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::string key = line.substr(0, line.rfind(' '));
            CPPUNIT_ASSERT_MESSAGE("twice: " + key, series.insert(key).second);
        }
        CPPUNIT_ASSERT(contains(
            text, R"(berth_http_requests_total{plugin="p",route="/r",method="POST",status="200"} 4)"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestMetricsTest);
