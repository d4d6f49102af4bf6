// Plugin log lines as berthd writes them with the shipped conf/logging.properties: while tracing is
// on, a line a plugin logs during a request names the request's trace and its server span (on a
// worker and on the I/O thread), and so does the access log; a berth::logged unit of work (the
// trace_probe fixture's /logged) has a span of its own, a child of the server span, which both its
// start and its end line name, with the unit's type, category, detail and description. And a
// per-plugin level (logging.loggers.<x>.name = berth.<plugin>) holds for that plugin only.
#include <Poco/JSON/Object.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "http_probe.h"
#include "json_log_lines.h"
#include "zipkin_schema.h"

namespace berth::test {
namespace {

const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kLoggedTrace = "463ac35c9f6413ad48485a3953bb6124";
const std::string kCallerSpan = "00f067aa0ba902b7";

// The server span of each path, and every other span by name.
struct Spans {
    std::map<std::string, Poco::JSON::Object::Ptr> serverOfPath;
    std::map<std::string, Poco::JSON::Object::Ptr> byName;
};

Spans spansIn(const std::string& file) {
    Spans spans;
    for (const Poco::JSON::Object::Ptr& span : parseLines(readFile(file))) {
        CPPUNIT_ASSERT_EQUAL(std::string(), describeProblems(span, false));
        if (span->has("kind") && span->getValue<std::string>("kind") == "SERVER")
            spans.serverOfPath[span->getObject("tags")->getValue<std::string>("http.path")] = span;
        else
            spans.byName[span->getValue<std::string>("name")] = span;
    }
    return spans;
}

std::string id(const Poco::JSON::Object::Ptr& span, const std::string& what) {
    CPPUNIT_ASSERT_MESSAGE("no span: " + what, span);
    return span->getValue<std::string>("id");
}

// The one line whose message starts with `start`.
Poco::JSON::Object::Ptr lineStarting(const std::vector<Poco::JSON::Object::Ptr>& lines,
                                     const std::string& start, const std::string& file) {
    Poco::JSON::Object::Ptr found;
    int count = 0;
    for (const auto& line : lines)
        if (text(line, "message").rfind(start, 0) == 0) {
            found = line;
            ++count;
        }
    CPPUNIT_ASSERT_EQUAL_MESSAGE("a message starting '" + start + "' in " + file + ":\n" + readFile(file), 1,
                                 count);
    return found;
}

bool anyMessage(const std::vector<Poco::JSON::Object::Ptr>& lines, const std::string& message) {
    for (const auto& line : lines)
        if (text(line, "message") == message) return true;
    return false;
}

}  // namespace

class PluginLoggingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PluginLoggingTest);
    CPPUNIT_TEST(testLinesNameTheServerSpan);
    CPPUNIT_TEST(testLoggedUnitHasItsSpanOnBothLines);
    CPPUNIT_TEST(testPerPluginLevel);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addFixture("log_probe");
        berthd_->addFixture("trace_probe");
        berthd_->set("tracing.enabled", "true");
        berthd_->set("tracing.file", "spans.jsonl");
        berthd_->set("http.access_log", "true");
        berthd_->set("http.access_log_file", "logs/access.log");
    }
    void tearDown() override { berthd_.reset(); }

    void testLinesNameTheServerSpan() {
        berthd_->writeFile("logging.properties", shippedLoggingWithPath("logs/berth.log"));
        berthd_->start();
        HttpProbe http(berthd_->port());
        HttpResult worker = http.get("/log_probe/say/hello", {{"b3", kTrace + "-" + kCallerSpan + "-1"},
                                                              {"X-Request-Id", "traced-1"}});
        E2E_ASSERT_STATUS(200, worker);
        HttpResult loop = http.get("/log_probe/say-fast");  // a new trace: its id is the request id
        E2E_ASSERT_STATUS(200, loop);
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());  // flushes logs and spans

        Spans spans = spansIn(berthd_->path("spans.jsonl"));
        const std::string logFile = berthd_->path("logs/berth.log");
        std::vector<Poco::JSON::Object::Ptr> lines = jsonLines(logFile);

        Poco::JSON::Object::Ptr said = lineWith(lines, "message", "said hello", logFile);
        CPPUNIT_ASSERT_EQUAL(std::string("traced-1"), text(said, "request_id"));
        CPPUNIT_ASSERT_EQUAL(kTrace, text(said, "trace_id"));
        CPPUNIT_ASSERT_EQUAL(id(spans.serverOfPath["/log_probe/say/hello"], "server span of /say/hello"),
                             text(said, "span_id"));

        Poco::JSON::Object::Ptr fast = lineWith(lines, "message", "said fast", logFile);
        CPPUNIT_ASSERT(isHex(loop.header("X-Request-Id"), 32));
        CPPUNIT_ASSERT_EQUAL(loop.header("X-Request-Id"), text(fast, "trace_id"));
        CPPUNIT_ASSERT_EQUAL(id(spans.serverOfPath["/log_probe/say-fast"], "server span of /say-fast"),
                             text(fast, "span_id"));

        // The configure() line came before any request: no ids.
        Poco::JSON::Object::Ptr configured = lineWith(lines, "message", "log_probe configured", logFile);
        CPPUNIT_ASSERT_MESSAGE(describe(configured),
                               !configured->has("trace_id") && !configured->has("span_id"));

        const std::string accessFile = berthd_->path("logs/access.log");
        std::vector<Poco::JSON::Object::Ptr> access = jsonLines(accessFile);
        CPPUNIT_ASSERT_EQUAL(kTrace,
                             text(lineWith(access, "request_id", "traced-1", accessFile), "trace_id"));
        CPPUNIT_ASSERT_EQUAL(
            loop.header("X-Request-Id"),
            text(lineWith(access, "request_id", loop.header("X-Request-Id"), accessFile), "trace_id"));
    }

    void testLoggedUnitHasItsSpanOnBothLines() {
        berthd_->writeFile("logging.properties", shippedLoggingWithPath("logs/berth.log"));
        berthd_->start();
        HttpProbe http(berthd_->port());
        HttpResult r = http.get("/trace_probe/logged", {{"b3", kLoggedTrace + "-" + kCallerSpan + "-1"}});
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());

        Spans spans = spansIn(berthd_->path("spans.jsonl"));
        const std::string server = id(spans.serverOfPath["/trace_probe/logged"], "server span of /logged");
        Poco::JSON::Object::Ptr unit = spans.byName["count"];
        const std::string unitSpan = id(unit, "the logged unit's span 'count'");
        CPPUNIT_ASSERT_EQUAL(kLoggedTrace, unit->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(server, unit->getValue<std::string>("parentId"));
        Poco::JSON::Object::Ptr tags = unit->getObject("tags");
        CPPUNIT_ASSERT_EQUAL(std::string("job"), tags->getValue<std::string>("type"));
        CPPUNIT_ASSERT_EQUAL(std::string("probe"), tags->getValue<std::string>("category"));
        CPPUNIT_ASSERT_EQUAL(std::string("counts to three"), tags->getValue<std::string>("description"));
        CPPUNIT_ASSERT(!tags->has("error"));

        const std::string logFile = berthd_->path("logs/berth.log");
        std::vector<Poco::JSON::Object::Ptr> lines = jsonLines(logFile);
        Poco::JSON::Object::Ptr start = lineWith(lines, "message", "count: start", logFile);
        Poco::JSON::Object::Ptr end = lineStarting(lines, "count: ok in ", logFile);
        for (const auto& line : {start, end}) {
            CPPUNIT_ASSERT_EQUAL(std::string("berth.trace_probe"), text(line, "logger"));
            CPPUNIT_ASSERT_EQUAL(std::string("trace_probe"), text(line, "plugin"));
            CPPUNIT_ASSERT_EQUAL(std::string("info"), text(line, "level"));
            CPPUNIT_ASSERT_EQUAL(std::string("job"), text(line, "type"));
            CPPUNIT_ASSERT_EQUAL(std::string("probe"), text(line, "category"));
            CPPUNIT_ASSERT_EQUAL(std::string("count"), text(line, "detail"));
            CPPUNIT_ASSERT_EQUAL(std::string("counts to three"), text(line, "description"));
            CPPUNIT_ASSERT_EQUAL(r.header("X-Request-Id"), text(line, "request_id"));
            CPPUNIT_ASSERT_EQUAL(kLoggedTrace, text(line, "trace_id"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(line), unitSpan, text(line, "span_id"));
        }
        CPPUNIT_ASSERT_EQUAL(std::string("start"), text(start, "phase"));
        CPPUNIT_ASSERT_EQUAL(std::string("end"), text(end, "phase"));
        CPPUNIT_ASSERT_EQUAL(std::string("ok"), text(end, "outcome"));
        CPPUNIT_ASSERT(!start->has("duration_ms"));
        // The unit naps 20 ms: at least that (an upper bound would depend on the machine's load).
        CPPUNIT_ASSERT_MESSAGE(describe(end), std::stod(text(end, "duration_ms")) >= 20.0);
    }

    void testPerPluginLevel() {
        // log_probe's logger at warning; the root (and so every other plugin) stays at information.
        berthd_->writeFile("logging.properties", shippedLoggingWithPath("logs/berth.log") +
                                                     "\nlogging.loggers.quiet.name = berth.log_probe\n"
                                                     "logging.loggers.quiet.level = warning\n");
        berthd_->start();
        HttpProbe http(berthd_->port());
        E2E_ASSERT_STATUS(200, http.get("/log_probe/say/hello"));  // a warning
        E2E_ASSERT_STATUS(200, http.get("/log_probe/say-fast"));   // information
        E2E_ASSERT_STATUS(200, http.get("/trace_probe/logged"));   // information, another plugin
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());

        const std::string logFile = berthd_->path("logs/berth.log");
        std::vector<Poco::JSON::Object::Ptr> lines = jsonLines(logFile);
        const std::string all = readFile(logFile);
        CPPUNIT_ASSERT_MESSAGE(all, anyMessage(lines, "said hello"));
        CPPUNIT_ASSERT_MESSAGE(all, !anyMessage(lines, "said fast"));
        CPPUNIT_ASSERT_MESSAGE(all, !anyMessage(lines, "log_probe configured"));
        CPPUNIT_ASSERT_MESSAGE(all, anyMessage(lines, "count: start"));
        // The host's own information lines too.
        bool host = false;
        for (const auto& line : lines) host = host || (!line->has("plugin") && text(line, "level") == "info");
        CPPUNIT_ASSERT_MESSAGE(all, host);
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginLoggingTest);

}  // namespace berth::test
