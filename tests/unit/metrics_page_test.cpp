// MetricsPage: berth_build_info and the process_* families first, then the registered sources in
// order, and the span queue families only once a reporter is plugged in.
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <regex>
#include <string>

#include "app/build_info.h"
#include "observe/metrics_page.h"
#include "observe/prometheus_text.h"
#include "test_helpers.h"

using berth::server::MetricsPage;
using berth::server::PrometheusText;
using berth::server::SpanQueueStats;
using berth::test::contains;

namespace {

// The value of an unlabelled sample line "name value".
double sampleValue(const std::string& text, const std::string& name) {
    std::size_t at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + name.size() + 2));
}

}  // namespace

class MetricsPageTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetricsPageTest);
    CPPUNIT_TEST(testBuildInfoFirst);
    CPPUNIT_TEST(testProcessFamilies);
    CPPUNIT_TEST(testSourcesInOrder);
    CPPUNIT_TEST(testSpanQueueOnlyOncePluggedIn);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testBuildInfoFirst() {
        std::string text = MetricsPage().render();
        CPPUNIT_ASSERT_MESSAGE(text, text.rfind("# HELP berth_build_info ", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "# TYPE berth_build_info gauge\n"));
        const std::regex pattern(
            "\nberth_build_info[{]version=\"([^\"]+)\",commit=\"([0-9a-f]+|unknown)\",poco=\"(1[.][0-9]+[.]["
            "0-9]+)\"[}] 1\n");
        std::smatch m;
        CPPUNIT_ASSERT_MESSAGE(text, std::regex_search(text, m, pattern));
        CPPUNIT_ASSERT_EQUAL(std::string(berth::server::buildInfo().version), m[1].str());
        CPPUNIT_ASSERT_EQUAL(std::string(berth::server::buildInfo().commit), m[2].str());
        CPPUNIT_ASSERT_EQUAL(std::string(BERTH_PROJECT_VERSION), m[1].str());
    }

    void testProcessFamilies() {
        std::string text = MetricsPage().render();
        for (const char* family :
             {"process_start_time_seconds gauge", "process_cpu_seconds_total counter",
              "process_resident_memory_bytes gauge", "process_open_fds gauge", "process_max_fds gauge"})
            CPPUNIT_ASSERT_MESSAGE(family, contains(text, std::string("# TYPE ") + family + "\n"));
        const double now =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        double started = sampleValue(text, "process_start_time_seconds");
        CPPUNIT_ASSERT_MESSAGE(text, started > now - 86400 && started <= now + 1);
        CPPUNIT_ASSERT_MESSAGE(text, sampleValue(text, "process_resident_memory_bytes") > 1e6);
        CPPUNIT_ASSERT_MESSAGE(text, sampleValue(text, "process_open_fds") >= 3);  // stdin, stdout, stderr
    }

    void testSourcesInOrder() {
        MetricsPage page;
        page.add([](PrometheusText& text) {
            text.family("a_total", "counter", "A.");
            text.sample("a_total").value(1);
        });
        page.add([](PrometheusText& text) { text.out() += "# HELP b B.\n# TYPE b gauge\nb 2\n"; });
        std::string text = page.render();
        CPPUNIT_ASSERT_MESSAGE(text, contains(text,
                                              "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
                                              "# HELP b B.\n# TYPE b gauge\nb 2\n"));
        CPPUNIT_ASSERT(text.find("berth_build_info") < text.find("a_total"));
    }

    void testSpanQueueOnlyOncePluggedIn() {
        MetricsPage page;
        CPPUNIT_ASSERT(!contains(page.render(), "berth_trace_spans"));
        SpanQueueStats stats{3, 7};
        page.setSpanQueue([&stats] { return stats; });
        std::string text = page.render();
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, "# TYPE berth_trace_spans_queued gauge\nberth_trace_spans_queued 3\n"));
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(text,
                     "# TYPE berth_trace_spans_dropped_total counter\nberth_trace_spans_dropped_total 7\n"));
        stats = {0, 9};
        CPPUNIT_ASSERT(contains(page.render(), "berth_trace_spans_dropped_total 9\n"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsPageTest);
