// RequestMetrics: per-loop shards summed into one Prometheus text, series per route and method,
// counts by status, cumulative latency buckets, and the in-flight gauge across shards.
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "observe/request_metrics.h"

using berth::server::RequestMetrics;

namespace {

bool contains(const std::string& text, const std::string& line) {
    return text.find(line) != std::string::npos;
}

}  // namespace

class RequestMetricsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RequestMetricsTest);
    CPPUNIT_TEST(testShardsAreSummed);
    CPPUNIT_TEST(testBucketsAreCumulative);
    CPPUNIT_TEST(testInFlightAcrossShards);
    CPPUNIT_TEST(testUnknownSeriesCountsAsUnmatched);
    CPPUNIT_TEST(testLabelValuesEscaped);
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
        std::string text;
        metrics.render(text);
        const std::string labels = R"(plugin="hello",route="/greet/<name>",method="GET")";
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, "berth_http_requests_total{" + labels + ",status=\"200\"} 3\n"));
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, "berth_http_requests_total{" + labels + ",status=\"404\"} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, "berth_http_request_duration_seconds_count{" + labels + "} 4\n"));
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, "berth_http_request_duration_seconds_sum{" + labels + "} 0.000400\n"));
    }

    void testBucketsAreCumulative() {
        RequestMetrics metrics;
        std::size_t route = metrics.addRoute("p", "/r", "POST");
        RequestMetrics::Shard* a = metrics.createShard();
        RequestMetrics::Shard* b = metrics.createShard();
        a->record(route, 201, 400);       // ≤ 0.5 ms
        b->record(route, 201, 3000);      // ≤ 5 ms
        b->record(route, 201, 20000000);  // beyond the last bound: +Inf only
        std::string text;
        metrics.render(text);
        const std::string prefix =
            R"(berth_http_request_duration_seconds_bucket{plugin="p",route="/r",method="POST",le=)";
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"0.0005\"} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"0.0025\"} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"0.005\"} 2\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"10\"} 2\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, prefix + "\"+Inf\"} 3\n"));
    }

    void testInFlightAcrossShards() {
        RequestMetrics metrics;
        RequestMetrics::Shard* a = metrics.createShard();
        RequestMetrics::Shard* b = metrics.createShard();
        a->inFlightAdd(1);
        a->inFlightAdd(1);
        b->inFlightAdd(1);
        a->inFlightAdd(-1);
        std::string text;
        metrics.render(text);
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_http_requests_in_flight 2\n"));
    }

    void testUnknownSeriesCountsAsUnmatched() {
        RequestMetrics metrics;
        RequestMetrics::Shard* a = metrics.createShard();
        a->record(99, 503, 10);
        a->record(0, 999, 10);  // a status outside 100-599 is not counted by status, but timed
        std::string text;
        metrics.render(text);
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(text, R"(berth_http_requests_total{plugin="",route="",method="",status="503"} 1)"));
        CPPUNIT_ASSERT_MESSAGE(text, !contains(text, "status=\"999\""));
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(text, R"(berth_http_request_duration_seconds_count{plugin="",route="",method=""} 2)"));
    }

    void testLabelValuesEscaped() {
        RequestMetrics metrics;
        std::size_t route = metrics.addRoute("q\"p", "/a\\b\nc", "GET");
        metrics.createShard()->record(route, 200, 1);
        std::string text;
        metrics.render(text);
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, R"({plugin="q\"p",route="/a\\b\nc",method="GET",status="200"} 1)"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestMetricsTest);
