// tracing.* of conf/berth.properties: defaults, a full valid set, and every wrong value named as a
// problem (berthd refuses to start with a clear message).
#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "trace/trace_settings.h"

using berth::server::loadTraceSettings;
using berth::server::TraceSettings;
using Poco::Util::MapConfiguration;
using Strings = std::vector<std::string>;

namespace {

TraceSettings load(std::initializer_list<std::pair<std::string, std::string>> values, Strings& problems) {
    Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
    for (const auto& [key, value] : values) config->setString(key, value);
    return loadTraceSettings(*config, "/etc/berth", problems);
}

std::string all(const Strings& problems) {
    std::string text;
    for (const std::string& p : problems) text += p + "\n";
    return text;
}

bool mentions(const Strings& problems, const std::string& what) {
    for (const std::string& p : problems)
        if (p.find(what) != std::string::npos) return true;
    return false;
}

}  // namespace

class TraceSettingsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(TraceSettingsTest);
    CPPUNIT_TEST(testDefaultsAreOff);
    CPPUNIT_TEST(testValues);
    CPPUNIT_TEST(testCollectorUrlWithoutPath);
    CPPUNIT_TEST(testProblems);
    CPPUNIT_TEST(testEnabledNeedsASink);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testDefaultsAreOff() {
        Strings problems;
        TraceSettings t = load({}, problems);
        CPPUNIT_ASSERT_MESSAGE(all(problems), problems.empty());
        CPPUNIT_ASSERT(!t.enabled);
        CPPUNIT_ASSERT_EQUAL(1.0, t.sampleRate);
        CPPUNIT_ASSERT_EQUAL(std::string("berthd"), t.serviceName);
        CPPUNIT_ASSERT(t.zipkinHost.empty() && t.file.empty());
    }

    void testValues() {
        Strings problems;
        TraceSettings t = load({{"tracing.enabled", "true"},
                                {"tracing.sample_rate", "0.25"},
                                {"tracing.service_name", "visits-api"},
                                {"tracing.zipkin.url", "http://zipkin.internal:9411/api/v2/spans?x=1"},
                                {"tracing.zipkin.timeout_ms", "1500"},
                                {"tracing.zipkin.retries", "3"},
                                {"tracing.zipkin.backoff_initial_ms", "100"},
                                {"tracing.zipkin.backoff_max_ms", "800"},
                                {"tracing.file", "../logs/spans.jsonl"},
                                {"tracing.file_rotate_mb", "10"},
                                {"tracing.file_keep", "2"},
                                {"tracing.queue_size", "500"},
                                {"tracing.batch_size", "50"},
                                {"tracing.flush_interval_ms", "100"},
                                {"tracing.shutdown_timeout_ms", "2000"}},
                               problems);
        CPPUNIT_ASSERT_MESSAGE(all(problems), problems.empty());
        CPPUNIT_ASSERT(t.enabled);
        CPPUNIT_ASSERT_EQUAL(0.25, t.sampleRate);
        CPPUNIT_ASSERT_EQUAL(std::string("visits-api"), t.serviceName);
        CPPUNIT_ASSERT_EQUAL(std::string("zipkin.internal"), t.zipkinHost);
        CPPUNIT_ASSERT_EQUAL(9411, t.zipkinPort);
        CPPUNIT_ASSERT_EQUAL(std::string("/api/v2/spans?x=1"), t.zipkinPath);
        CPPUNIT_ASSERT_EQUAL(1500, t.zipkinTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(3, t.retries);
        CPPUNIT_ASSERT_EQUAL(100, t.backoffInitialMs);
        CPPUNIT_ASSERT_EQUAL(800, t.backoffMaxMs);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/logs/spans.jsonl"), t.file);  // against the conf folder
        CPPUNIT_ASSERT_EQUAL(std::size_t(10) << 20, t.fileRotateBytes);
        CPPUNIT_ASSERT_EQUAL(2, t.fileKeep);
        CPPUNIT_ASSERT_EQUAL(std::size_t(500), t.queueSize);
        CPPUNIT_ASSERT_EQUAL(std::size_t(50), t.batchSize);
        CPPUNIT_ASSERT_EQUAL(100, t.flushIntervalMs);
        CPPUNIT_ASSERT_EQUAL(2000, t.shutdownTimeoutMs);
    }

    void testCollectorUrlWithoutPath() {
        Strings problems;
        TraceSettings t = load({{"tracing.zipkin.url", "http://127.0.0.1:9411"}}, problems);
        CPPUNIT_ASSERT_MESSAGE(all(problems), problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("/api/v2/spans"), t.zipkinPath);
        t = load({{"tracing.zipkin.url", "http://collector"}}, problems);
        CPPUNIT_ASSERT_EQUAL(80, t.zipkinPort);
        // "/" alone is the collector's root, which answers 404: the default path instead.
        t = load({{"tracing.zipkin.url", "http://zipkin:9411/"}}, problems);
        CPPUNIT_ASSERT_MESSAGE(all(problems), problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("/api/v2/spans"), t.zipkinPath);
    }

    void testProblems() {
        Strings problems;
        load({{"tracing.enabled", "sometimes"},
              {"tracing.sample_rate", "1.5"},
              {"tracing.service_name", " "},
              {"tracing.zipkin.url", "https://zipkin:9411/api/v2/spans"},
              {"tracing.zipkin.retries", "-1"},
              {"tracing.zipkin.backoff_initial_ms", "5000"},
              {"tracing.zipkin.backoff_max_ms", "100"},
              {"tracing.queue_size", "0"},
              {"tracing.batch_size", "many"},
              {"tracing.flush_interval_ms", "1"},
              {"tracing.sampel_rate", "0.5"},
              {"tracing.zipkin.uri", "http://x"},
              {"tracing.file", "${system.env.BERTH_SURELY_UNDEFINED}"}},
             problems);
        for (const char* expected :
             {"tracing.enabled = 'sometimes' is not a boolean",
              "tracing.sample_rate = '1.5' is not a number from 0 to 1", "tracing.service_name is empty",
              "only http:// collectors are supported", "tracing.zipkin.retries = -1 is out of range",
              "tracing.zipkin.backoff_max_ms = 100 is below", "tracing.queue_size = 0 is out of range",
              "tracing.batch_size = 'many' is not an integer",
              "tracing.flush_interval_ms = 1 is out of range", "tracing.sampel_rate is not a berthd setting",
              "tracing.zipkin.uri is not a berthd setting",
              "${system.env.BERTH_SURELY_UNDEFINED} is not defined"})
            CPPUNIT_ASSERT_MESSAGE(std::string(expected) + " missing from:\n" + all(problems),
                                   mentions(problems, expected));
        problems.clear();
        load({{"tracing.sample_rate", "nan"}}, problems);
        CPPUNIT_ASSERT_MESSAGE(all(problems), mentions(problems, "tracing.sample_rate = 'nan'"));
        problems.clear();
        load({{"tracing.zipkin.url", "http://:9411/"}}, problems);
        CPPUNIT_ASSERT_MESSAGE(all(problems), mentions(problems, "no host"));
    }

    void testEnabledNeedsASink() {
        Strings problems;
        load({{"tracing.enabled", "true"}}, problems);
        CPPUNIT_ASSERT_MESSAGE(all(problems),
                               mentions(problems, "neither tracing.zipkin.url nor tracing.file is set"));
        problems.clear();
        load(
            {{"tracing.enabled", "true"}, {"tracing.file", "/tmp/spans.jsonl"}, {"tracing.sample_rate", "0"}},
            problems);
        CPPUNIT_ASSERT_MESSAGE(all(problems), problems.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TraceSettingsTest);
