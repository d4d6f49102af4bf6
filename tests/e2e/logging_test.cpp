// Logging as berthd does it: the shipped conf/logging.properties (with its file in a temporary
// folder) writes JSON lines whose plugin and request_id match the requests that caused them, the
// log folder is made when missing and a folder that cannot be made stops the start, and the
// access log has a line with every field for each request.
#include <Poco/JSON/Object.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "http_probe.h"
#include "json_log_lines.h"

namespace berth::test {
namespace {

constexpr int kExitConfig = 78;

}  // namespace

class LoggingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LoggingTest);
    CPPUNIT_TEST(testJsonLinesMatchTheirRequests);
    CPPUNIT_TEST(testLogFolderThatCannotBeMadeStopsTheStart);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testJsonLinesMatchTheirRequests() {
        BerthdProcess berthd;
        berthd.addFixture("log_probe");
        // Relative: resolved against berth.properties' folder; logs/ does not exist yet.
        berthd.writeFile("logging.properties", shippedLoggingWithPath("logs/deep/berth.log"));
        berthd.set("http.access_log", "true");
        berthd.set("http.access_log_file", "logs/access.log");
        berthd.start();
        HttpProbe http(berthd.port());
        HttpResult worker = http.get("/log_probe/say/hello", {{"X-Request-Id", "e2e-logging-1"}});
        E2E_ASSERT_STATUS(200, worker);
        HttpResult loop = http.get("/log_probe/say-fast");
        E2E_ASSERT_STATUS(200, loop);
        HttpResult failed = http.get("/log_probe/fail");
        E2E_ASSERT_STATUS(500, failed);
        HttpResult nap = http.get("/log_probe/nap/50");
        E2E_ASSERT_STATUS(200, nap);
        CPPUNIT_ASSERT_EQUAL(0, berthd.stop());  // flushes both files

        const std::string logFile = berthd.path("logs/deep/berth.log");
        std::vector<Poco::JSON::Object::Ptr> lines = jsonLines(logFile);
        CPPUNIT_ASSERT_MESSAGE(readFile(logFile), lines.size() >= 5);
        for (const auto& line : lines)
            for (const char* key : {"timestamp", "level", "logger", "message", "thread"})
                CPPUNIT_ASSERT_MESSAGE(std::string(key) + " in " + describe(line), line->has(key));

        // Outside a request: the plugin is named by its logger, there is no request id.
        Poco::JSON::Object::Ptr configured = lineWith(lines, "message", "log_probe configured", logFile);
        CPPUNIT_ASSERT_EQUAL(std::string("berth.log_probe"), text(configured, "logger"));
        CPPUNIT_ASSERT_EQUAL(std::string("log_probe"), text(configured, "plugin"));
        CPPUNIT_ASSERT_EQUAL(std::string("info"), text(configured, "level"));
        CPPUNIT_ASSERT(!configured->has("request_id"));

        // On a worker thread, with the caller's request id, a parameter and a renamed clash.
        Poco::JSON::Object::Ptr said = lineWith(lines, "message", "said hello", logFile);
        CPPUNIT_ASSERT_EQUAL(std::string("log_probe"), text(said, "plugin"));
        CPPUNIT_ASSERT_EQUAL(std::string("warning"), text(said, "level"));
        CPPUNIT_ASSERT_EQUAL(worker.header("X-Request-Id"), text(said, "request_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("e2e-logging-1"), text(said, "request_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), text(said, "word"));
        CPPUNIT_ASSERT_EQUAL(std::string("a parameter named like a fixed field"),
                             text(said, "field_message"));

        // On the I/O thread, with the id berthd generated.
        Poco::JSON::Object::Ptr fast = lineWith(lines, "message", "said fast", logFile);
        CPPUNIT_ASSERT(isHex(loop.header("X-Request-Id"), 32));
        CPPUNIT_ASSERT_EQUAL(loop.header("X-Request-Id"), text(fast, "request_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("log_probe"), text(fast, "plugin"));
        CPPUNIT_ASSERT(text(fast, "thread") != text(said, "thread"));

        // The host's own line about the request, under its logger, still names plugin and request.
        Poco::JSON::Object::Ptr threw = nullptr;
        for (const auto& line : lines)
            if (text(line, "message").find("log_probe failed on purpose") != std::string::npos) threw = line;
        CPPUNIT_ASSERT_MESSAGE(readFile(logFile), threw);
        CPPUNIT_ASSERT_EQUAL(std::string("berth.http"), text(threw, "logger"));
        CPPUNIT_ASSERT_EQUAL(std::string("error"), text(threw, "level"));
        CPPUNIT_ASSERT_EQUAL(std::string("log_probe"), text(threw, "plugin"));
        CPPUNIT_ASSERT_EQUAL(failed.header("X-Request-Id"), text(threw, "request_id"));

        // The access log: one line per request with every field.
        const std::string accessFile = berthd.path("logs/access.log");
        std::vector<Poco::JSON::Object::Ptr> access = jsonLines(accessFile);
        Poco::JSON::Object::Ptr visit = lineWith(access, "request_id", "e2e-logging-1", accessFile);
        CPPUNIT_ASSERT_EQUAL(std::string("GET"), text(visit, "method"));
        CPPUNIT_ASSERT_EQUAL(std::string("/log_probe/say/hello"), text(visit, "path"));
        CPPUNIT_ASSERT_EQUAL(std::string("/say/<word>"), text(visit, "route"));
        CPPUNIT_ASSERT_EQUAL(std::string("log_probe"), text(visit, "plugin"));
        CPPUNIT_ASSERT_EQUAL(200, visit->getValue<int>("status"));
        CPPUNIT_ASSERT_EQUAL(static_cast<int>(worker.body.size()), visit->getValue<int>("bytes"));
        CPPUNIT_ASSERT(!text(visit, "timestamp").empty());
        // Tracing is off: no trace ids (plugin_logging_test has them when it is on).
        CPPUNIT_ASSERT_MESSAGE(describe(visit), !visit->has("trace_id") && !visit->has("span_id"));
        // The handler slept 50 ms: at least that (an upper bound would depend on the machine's load).
        Poco::JSON::Object::Ptr napped =
            lineWith(access, "request_id", nap.header("X-Request-Id"), accessFile);
        CPPUNIT_ASSERT_MESSAGE(describe(napped), napped->getValue<double>("duration_ms") >= 50.0);
        CPPUNIT_ASSERT_EQUAL(500, lineWith(access, "request_id", failed.header("X-Request-Id"), accessFile)
                                      ->getValue<int>("status"));
    }

    void testLogFolderThatCannotBeMadeStopsTheStart() {
        BerthdProcess berthd;
        berthd.writeFile("plain", "a file where the log folder should be");
        berthd.writeFile("logging.properties", shippedLoggingWithPath("plain/logs/berth.log"));
        RunResult result = berthd.run({"--config", berthd.configFile()});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(result.output(), kExitConfig, result.exitCode);
        CPPUNIT_ASSERT_MESSAGE(result.output(),
                               result.err.find("logging.channels.file.path = plain/logs/berth.log: "
                                               "cannot create the folder " +
                                               berthd.path("plain/logs")) != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LoggingTest);

}  // namespace berth::test
