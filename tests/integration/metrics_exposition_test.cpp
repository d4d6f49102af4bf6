// GET /metrics of berthd as a process — the example plugins (hello; visits on a schema of its
// own), the db_probe and cache_probe fixtures, a database with a replica, Redis, tracing to a
// file — after requests answered with many statuses: `promtool check metrics` (Debian's
// prometheus package) accepts it without a single complaint (its lint warnings count as
// failures), every family has one HELP and one TYPE line and its samples together, no series
// appears twice, and the families the README lists are there.
#include <Poco/File.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sys/wait.h>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "berthd_process.h"
#include "http_probe.h"
#include "pg_env.h"
#include "redis_env.h"
#include "test_schema.h"

using berth::test::BerthdProcess;
using berth::test::HttpCall;
using berth::test::HttpProbe;
using berth::test::HttpResult;

namespace {

bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

// The family a sample line belongs to: its name less a histogram's suffix, when `histograms` has it.
std::string familyOf(const std::string& sample, const std::set<std::string>& histograms) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string s(suffix);
        if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0 &&
            histograms.count(sample.substr(0, sample.size() - s.size())))
            return sample.substr(0, sample.size() - s.size());
    }
    return sample;
}

// The value of the one sample whose line starts with `start`; "<none>" or "<several>" otherwise.
std::string sampleValue(const std::string& text, const std::string& start) {
    std::string value = "<none>";
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line))
        if (line.rfind(start, 0) == 0)
            value = value == "<none>" ? line.substr(line.rfind(' ') + 1) : "<several>";
    return value;
}

}  // namespace

class MetricsExpositionTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MetricsExpositionTest);
    CPPUNIT_TEST(testPromtoolAcceptsTheWholePage);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testPromtoolAcceptsTheWholePage() {
        // Fail, not skip, without promtool: CI must run this check.
        CPPUNIT_ASSERT_MESSAGE(
            "promtool is not on PATH: install Debian's prometheus package (scripts/dev installs it with the "
            "other packages: scripts/dev setup)",
            std::system("command -v promtool >/dev/null 2>&1") == 0);

        berth::test::TestSchema schema("metrics");
        berth::test::PgEnv pg = berth::test::pgEnv();
        berth::test::RedisEnv redis = berth::test::redisEnv();
        BerthdProcess berthd;
        berthd.addHelloPlugin();
        berthd.addFixture("db_probe");
        berthd.addFixture("cache_probe");
        Poco::File(std::string(BERTH_PLUGIN_DIR) + "/visits.so").copyTo(berthd.path("plugins/visits.so"));
        berthd.writePluginSettings("visits", "prefix = /visits\ndatabase = main\n");
        schema.configure(berthd);
        berthd.set("db.main.auto_migrate", "true");
        berthd.set("db.main.pool_max", "7");  // berth_db_pool_max_connections, below
        berthd.set("db.main.replicas", pg.host + ":" + std::to_string(pg.replicaPort));
        berthd.set("redis.host", redis.host);
        berthd.set("redis.port", std::to_string(redis.port));
        berthd.set("redis.password", "${system.env.BERTH_REDIS_PASSWORD}");
        berthd.set("redis.db", std::to_string(redis.db));
        berthd.set("cors.allowed_origins", "https://app.example.com");
        berthd.set("tracing.enabled", "true");  // the span reporter's queue families
        berthd.set("tracing.file", berthd.path("spans.jsonl"));
        berthd.start();
        HttpProbe http(berthd.port(), 10000);

        // Answers of many kinds, on routes with parameters (label values with < > :).
        const std::string key = berth::test::uniquePlugin();
        std::map<std::string, int> expected = {
            {"/hello/greet/world", 200},
            {"/hello/numbers/7", 200},
            {"/hello/error", 422},
            {"/hello/crash", 500},
            {"/nope", 404},
            {"/db_probe/ping", 200},
            {"/db_probe/echo/5", 200},
            {"/visits/visit_tasks/999999", 404},
            {"/cache_probe/set/" + key + "/v", 200},
            {"/cache_probe/get/" + key, 200},
            {"/ready", 200},
            {"/hello/numbers/99999999999999999999", 400},
        };
        for (const auto& [target, status] : expected)
            CPPUNIT_ASSERT_EQUAL_MESSAGE(target + berthd.log(), status, http.get(target).status);
        CPPUNIT_ASSERT_EQUAL(400, http.post("/hello/echo", "{bad").status);
        CPPUNIT_ASSERT_EQUAL(405, http.post("/health", "").status);
        HttpCall options;
        options.method = "OPTIONS";
        options.target = "/hello/greet/x";
        CPPUNIT_ASSERT_EQUAL(204, http.send(options).status);
        HttpResult created = http.post("/visits/visit_tasks", R"({"title":"t","hospital_id":1})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), 201, created.status);

        HttpResult metrics = http.get("/metrics");
        CPPUNIT_ASSERT_EQUAL(200, metrics.status);
        CPPUNIT_ASSERT_EQUAL(std::string("text/plain; version=0.0.4; charset=utf-8"),
                             metrics.header("Content-Type"));
        const std::string& text = metrics.body;

        // promtool: exit 0 and nothing printed (lint problems are printed, with exit 3).
        berthd.writeFile("metrics.txt", text);
        std::string report = berthd.path("promtool.out");
        int status = std::system(
            ("promtool check metrics < " + berthd.path("metrics.txt") + " > " + report + " 2>&1").c_str());
        std::string said = berth::test::readFile(report);
        CPPUNIT_ASSERT_MESSAGE("promtool check metrics exited " + std::to_string(WEXITSTATUS(status)) +
                                   ":\n" + said + "\n--- the page:\n" + text,
                               WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CPPUNIT_ASSERT_MESSAGE("promtool check metrics reported:\n" + said + "\n--- the page:\n" + text,
                               said.empty());

        // What promtool 2.42 lets pass: a family split in two, a series twice.
        std::set<std::string> typed, histograms, series;
        std::string current;
        std::istringstream lines(text);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind("# TYPE ", 0) == 0) {
                std::istringstream words(line.substr(7));
                std::string type;
                words >> current >> type;
                CPPUNIT_ASSERT_MESSAGE("a second TYPE for " + current, typed.insert(current).second);
                if (type == "histogram") histograms.insert(current);
                continue;
            }
            if (line.empty() || line[0] == '#') continue;
            std::string name = line.substr(0, line.find_first_of("{ "));
            CPPUNIT_ASSERT_EQUAL_MESSAGE("a sample away from its family: " + line, current,
                                         familyOf(name, histograms));
            CPPUNIT_ASSERT_MESSAGE("a series twice: " + line,
                                   series.insert(line.substr(0, line.rfind(' '))).second);
        }

        // The families the README lists.
        for (const char* family : {"berth_build_info gauge",
                                   "process_start_time_seconds gauge",
                                   "process_resident_memory_bytes gauge",
                                   "process_open_fds gauge",
                                   "berth_http_requests_total counter",
                                   "berth_http_request_duration_seconds histogram",
                                   "berth_http_requests_in_flight gauge",
                                   "berth_db_connections gauge",
                                   "berth_db_pool_max_connections gauge",
                                   "berth_db_waiting gauge",
                                   "berth_db_connections_created_total counter",
                                   "berth_db_connect_failures_total counter",
                                   "berth_db_errors_total counter",
                                   "berth_db_pool_timeouts_total counter",
                                   "berth_db_replica_fallbacks_total counter",
                                   "berth_redis_up gauge",
                                   "berth_redis_connections gauge",
                                   "berth_redis_skipped_total counter",
                                   "berth_io_loop_connections gauge",
                                   "berth_access_log_dropped_total counter",
                                   "berth_trace_spans_queued gauge",
                                   "berth_trace_spans_dropped_total counter"})
            CPPUNIT_ASSERT_MESSAGE(std::string("missing: # TYPE ") + family + "\n" + text,
                                   contains(text, std::string("# TYPE ") + family + "\n"));
        const std::string greet = R"(plugin="hello",route="/greet/<name>",method="GET",status="200")";
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_http_requests_total{" + greet + "} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_http_request_duration_seconds_bucket{" + greet +
                                                        ",le=\"+Inf\"} 1\n"));
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(
                text,
                R"(berth_http_requests_total{plugin="hello",route="/crash",method="GET",status="500"} 1)"));
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(
                text,
                R"(berth_http_requests_total{plugin="visits",route="/visit_tasks",method="POST",status="201"} 1)"));
        CPPUNIT_ASSERT_MESSAGE(
            text,
            contains(text, R"(berth_http_requests_total{plugin="",route="",method="",status="405"} 1)"));
        CPPUNIT_ASSERT_MESSAGE(text,
                               contains(text, "berth_http_requests_in_flight 1\n"));  // this very request
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "berth_redis_up 1\n"));
        // The pools' values: their size as configured, and connections the requests above made.
        for (const char* role : {"primary", "replica"}) {
            const std::string labels = std::string("{database=\"main\",role=\"") + role + "\",endpoint=\"";
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::string("7"),
                                         sampleValue(text, "berth_db_pool_max_connections" + labels));
        }
        CPPUNIT_ASSERT_MESSAGE(
            text, std::stod(sampleValue(
                      text, "berth_db_connections_created_total{database=\"main\",role=\"primary\"")) >= 1);
        CPPUNIT_ASSERT_MESSAGE(
            text, contains(text, "berth_build_info{version=\"" BERTH_PROJECT_VERSION "\",commit=\""));
        CPPUNIT_ASSERT_EQUAL(0, berthd.stop());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsExpositionTest);
