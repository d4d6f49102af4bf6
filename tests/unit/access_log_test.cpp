// The access log's lines as they reach the file: the exact JSON of each field, escaping of
// everything that can need it, cached route/plugin text, request ids outside their
// precondition, order across flushes and shards, and drop counting when the writer is behind.
#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "berth/request.h"
#include "observe/access_log.h"
#include "test_helpers.h"

using berth::Method;
using berth::server::AccessLog;
using berth::server::AccessRecord;

namespace {

std::string readAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        CPPUNIT_ASSERT_MESSAGE("every line ends with a newline", end != std::string::npos);
        lines.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    return lines;
}

Poco::JSON::Object::Ptr parseLine(const std::string& line) {
    Poco::JSON::Parser parser;
    return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
}

// 2026-11-25T13:42:41.415Z, the README's example.
constexpr std::int64_t kExampleMs = 1795614161415;

AccessRecord exampleRecord() {
    AccessRecord r;
    r.unixMs = kExampleMs;
    r.durationUs = 42;
    r.bytes = 71;
    r.status = 200;
    r.method = static_cast<std::uint8_t>(Method::Get);
    r.plugin = "hello";
    r.route = "/greet/<name>";
    r.path = "/hello/greet/world";
    r.requestId = "991a25a35de45cd7309327093f6c9a27";
    return r;
}

}  // namespace

class AccessLogTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(AccessLogTest);
    CPPUNIT_TEST(testExampleLine);
    CPPUNIT_TEST(testRefusalLine);
    CPPUNIT_TEST(testPathEscaped);
    CPPUNIT_TEST(testRouteAndPluginEscapedAndCached);
    CPPUNIT_TEST(testRouteAndPluginInOneSlot);
    CPPUNIT_TEST(testManyDistinctRoutes);
    CPPUNIT_TEST(testTimestampsOutOfOrder);
    CPPUNIT_TEST(testRequestIdOutsidePrecondition);
    CPPUNIT_TEST(testLengthCaps);
    CPPUNIT_TEST(testTraceId);
    CPPUNIT_TEST(testOrderAcrossFlushesAndShards);
    CPPUNIT_TEST(testDropsWhenWriterIsBehind);
    CPPUNIT_TEST(testFailedWriteCountsEveryLine);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testExampleLine() {
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                "{\"timestamp\":\"2026-11-25T13:42:41.415Z\",\"method\":\"GET\",\"path\":\"/hello/greet/"
                "world\",\"route\":\"/greet/<name>\",\"plugin\":\"hello\",\"status\":200,\"bytes\":71,"
                "\"duration_ms\":0.042,\"request_id\":\"991a25a35de45cd7309327093f6c9a27\"}\n"),
            logged({exampleRecord()}));
    }

    void testRefusalLine() {
        // A refusal before routing: no route, no plugin, maybe no request id; odd numbers.
        AccessRecord r;
        r.unixMs = kExampleMs + 585;  // .999 + 1 ms carries into the next second below
        r.durationUs = 1234567;
        r.bytes = 4294967295u;
        r.status = 431;
        r.method = static_cast<std::uint8_t>(Method::Other);
        r.path = "/";
        AccessRecord next = r;
        next.unixMs = kExampleMs + 586;
        next.durationUs = 0;
        next.bytes = 0;
        next.status = 65535;
        next.method = static_cast<std::uint8_t>(Method::Options);
        next.requestId = "A_b.c:d-E";
        CPPUNIT_ASSERT_EQUAL(
            std::string("{\"timestamp\":\"2026-11-25T13:42:42.000Z\",\"method\":\"OTHER\",\"path\":\"/\","
                        "\"route\":\"\",\"plugin\":\"\",\"status\":431,\"bytes\":4294967295,"
                        "\"duration_ms\":1234.567,\"request_id\":\"\"}\n"
                        "{\"timestamp\":\"2026-11-25T13:42:42.001Z\",\"method\":\"OPTIONS\",\"path\":\"/\","
                        "\"route\":\"\",\"plugin\":\"\",\"status\":65535,\"bytes\":0,"
                        "\"duration_ms\":0.000,\"request_id\":\"A_b.c:d-E\"}\n"),
            logged({r, next}));
    }

    void testPathEscaped() {
        // The path is client input: quotes, backslashes, control bytes, NUL and bytes that are
        // not UTF-8 must not break the line.
        static const char raw[] = "/a\"b\\c\n\r\t\x01 \xc3\xa9\xff/";
        const std::string path =
            std::string(raw, sizeof raw - 1) + std::string(1, '\0') + "/tail-of-a-long-path";
        AccessRecord r = exampleRecord();
        r.path = path;
        std::string line = logged({r});
        CPPUNIT_ASSERT_MESSAGE(line, line.find("\"path\":\"/a\\\"b\\\\c\\n\\r\\t\\u0001 \xc3\xa9\\ufffd/"
                                               "\\u0000/tail-of-a-long-path\",") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("/a\"b\\c\n\r\t\x01 \xc3\xa9\xef\xbf\xbd/") + std::string(1, '\0') +
                                 "/tail-of-a-long-path",
                             parseLine(line.substr(0, line.size() - 1))->getValue<std::string>("path"));
    }

    void testTraceId() {
        // Written after request_id when the request was traced; hostile bytes escaped like a path.
        AccessRecord traced = exampleRecord();
        traced.traceId = "463ac35c9f6413ad48485a3953bb6124";
        AccessRecord hostile = exampleRecord();
        hostile.traceId = "a\"b\n\xff";
        AccessRecord untraced = exampleRecord();
        std::vector<std::string> lines = splitLines(logged({traced, hostile, untraced}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), lines.size());
        CPPUNIT_ASSERT_MESSAGE(
            lines[0],
            lines[0].find("\"request_id\":\"991a25a35de45cd7309327093f6c9a27\","
                          "\"trace_id\":\"463ac35c9f6413ad48485a3953bb6124\"}") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string("a\"b\n\xef\xbf\xbd"),
                             parseLine(lines[1])->getValue<std::string>("trace_id"));
        CPPUNIT_ASSERT(!parseLine(lines[2])->has("trace_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("/hello/greet/world"),
                             parseLine(lines[1])->getValue<std::string>("path"));
    }

    void testRouteAndPluginEscapedAndCached() {
        // Route and plugin text comes from the route table; it is escaped like anything else,
        // and the writer's cache keyed by pointer must give each pointer its own text.
        static const char routeA[] = "/q/\"<x>\"\\";
        static const char routeB[] = "/plain/<id>";
        static const char pluginA[] = "pl\"ug";
        static const char pluginB[] = "other\ttab";
        std::vector<AccessRecord> records;
        for (int i = 0; i < 6; ++i) {
            AccessRecord r = exampleRecord();
            r.route = i % 2 == 0 ? routeA : routeB;
            r.plugin = i % 3 == 0 ? pluginA : pluginB;
            records.push_back(r);
        }
        // Same text at another address, and route and plugin the same pointer.
        static const char routeACopy[] = "/q/\"<x>\"\\";
        AccessRecord copy = exampleRecord();
        copy.route = routeACopy;
        copy.plugin = routeACopy;
        records.push_back(copy);
        std::vector<std::string> lines = splitLines(logged(records));
        CPPUNIT_ASSERT_EQUAL(records.size(), lines.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            const char* route = records[i].route;
            const char* plugin = records[i].plugin;
            std::string expectedRoute = route == routeB ? "\"/plain/<id>\"" : "\"/q/\\\"<x>\\\"\\\\\"";
            std::string expectedPlugin = plugin == pluginA   ? "\"pl\\\"ug\""
                                         : plugin == pluginB ? "\"other\\ttab\""
                                                             : expectedRoute;
            CPPUNIT_ASSERT_MESSAGE(lines[i], lines[i].find(",\"route\":" + expectedRoute + ",\"plugin\":" +
                                                           expectedPlugin + ",") != std::string::npos);
            Poco::JSON::Object::Ptr json = parseLine(lines[i]);
            CPPUNIT_ASSERT_EQUAL(std::string(route), json->getValue<std::string>("route"));
            CPPUNIT_ASSERT_EQUAL(std::string(plugin), json->getValue<std::string>("plugin"));
        }
    }

    void testRouteAndPluginInOneSlot() {
        // Strings a power of two apart are what a small table keyed by pointer bits puts in one
        // slot: a line's route and plugin there must still both come out right.
        static char arena[65536 + 64];
        std::strcpy(arena, "/route\\<a>");
        std::strcpy(arena + 32768, "plugin\"b");
        std::strcpy(arena + 65536, "third");
        const char* texts[3] = {arena, arena + 32768, arena + 65536};
        std::vector<AccessRecord> records;
        for (int i = 0; i < 9; ++i) {
            AccessRecord r = exampleRecord();
            r.route = texts[i % 3];
            r.plugin = texts[(i / 3 + i + 1) % 3];
            records.push_back(r);
        }
        std::vector<std::string> lines = splitLines(logged(records));
        CPPUNIT_ASSERT_EQUAL(records.size(), lines.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            Poco::JSON::Object::Ptr json = parseLine(lines[i]);
            CPPUNIT_ASSERT_EQUAL(std::string(records[i].route), json->getValue<std::string>("route"));
            CPPUNIT_ASSERT_EQUAL(std::string(records[i].plugin), json->getValue<std::string>("plugin"));
        }
    }

    void testManyDistinctRoutes() {
        // More distinct pointers than any small cache holds, long ones included, each seen
        // several times in an interleaved order.
        std::vector<std::string> routes;
        for (int i = 0; i < 300; ++i)
            routes.push_back("/r" + std::to_string(i) + (i % 7 == 0 ? std::string(100 + i, 'x') + "\"" : ""));
        std::vector<AccessRecord> records;
        for (int round = 0; round < 3; ++round)
            for (std::size_t i = 0; i < routes.size(); ++i) {
                AccessRecord r = exampleRecord();
                r.route = routes[(i * 37 + round) % routes.size()].c_str();
                r.plugin = routes[(i * 11 + 5 * round) % routes.size()].c_str();
                records.push_back(r);
            }
        std::vector<std::string> lines = splitLines(logged(records));
        CPPUNIT_ASSERT_EQUAL(records.size(), lines.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            Poco::JSON::Object::Ptr json = parseLine(lines[i]);
            CPPUNIT_ASSERT_EQUAL(std::string(records[i].route), json->getValue<std::string>("route"));
            CPPUNIT_ASSERT_EQUAL(std::string(records[i].plugin), json->getValue<std::string>("plugin"));
        }
    }

    void testTimestampsOutOfOrder() {
        // Shards are formatted one after the other, so time can step back within a flush.
        std::vector<AccessRecord> records;
        for (std::int64_t ms : {kExampleMs, kExampleMs + 586, kExampleMs + 584, kExampleMs - 86400000,
                                kExampleMs + 585 + 3600000, std::int64_t(0), kExampleMs}) {
            AccessRecord r = exampleRecord();
            r.unixMs = ms;
            records.push_back(r);
        }
        std::vector<std::string> lines = splitLines(logged(records));
        const char* expected[] = {"2026-11-25T13:42:41.415Z", "2026-11-25T13:42:42.001Z",
                                  "2026-11-25T13:42:41.999Z", "2026-11-24T13:42:41.415Z",
                                  "2026-11-25T14:42:42.000Z", "1970-01-01T00:00:00.000Z",
                                  "2026-11-25T13:42:41.415Z"};
        CPPUNIT_ASSERT_EQUAL(records.size(), lines.size());
        for (std::size_t i = 0; i < lines.size(); ++i)
            CPPUNIT_ASSERT_EQUAL(std::string("{\"timestamp\":\"") + expected[i] + "\",",
                                 lines[i].substr(0, 40));
    }

    void testRequestIdOutsidePrecondition() {
        // Ids are meant to be generated or isSaneRequestId-clean; anything else must still give
        // a valid line with the id escaped.
        const std::vector<std::string> ids = {"a\"b",
                                              "back\\slash",
                                              "line\nbreak",
                                              std::string("nul\0byte", 8),
                                              "space and !",
                                              "\xc3\xa9t\xc3\xa9",
                                              "bad\xff",
                                              "0123456789abcdef0123456789abcde\"",
                                              "0123456789abcdef0123456789abcdef\x7f",
                                              "x"};
        std::vector<AccessRecord> records;
        for (const std::string& id : ids) {
            AccessRecord r = exampleRecord();
            r.requestId = id;
            records.push_back(r);
        }
        std::vector<std::string> lines = splitLines(logged(records));
        CPPUNIT_ASSERT_EQUAL(ids.size(), lines.size());
        const std::vector<std::string> expected = {"\"a\\\"b\"",
                                                   "\"back\\\\slash\"",
                                                   "\"line\\nbreak\"",
                                                   "\"nul\\u0000byte\"",
                                                   "\"space and !\"",
                                                   "\"\xc3\xa9t\xc3\xa9\"",
                                                   "\"bad\\ufffd\"",
                                                   "\"0123456789abcdef0123456789abcde\\\"\"",
                                                   "\"0123456789abcdef0123456789abcdef\x7f\"",
                                                   "\"x\""};
        for (std::size_t i = 0; i < ids.size(); ++i) {
            std::string tail = ",\"request_id\":" + expected[i] + "}";
            CPPUNIT_ASSERT_MESSAGE(
                lines[i], lines[i].size() > tail.size() &&
                              lines[i].compare(lines[i].size() - tail.size(), tail.size(), tail) == 0);
            parseLine(lines[i]);
        }
    }

    void testLengthCaps() {
        // Stored lengths are capped: request ids at 255 bytes, paths at 65535.
        std::string id(300, 'i');
        std::string path = "/" + std::string(70000, 'p');
        AccessRecord r = exampleRecord();
        r.requestId = id;
        r.path = path;
        Poco::JSON::Object::Ptr json = parseLine(splitLines(logged({r})).at(0));
        CPPUNIT_ASSERT_EQUAL(id.substr(0, 255), json->getValue<std::string>("request_id"));
        CPPUNIT_ASSERT_EQUAL(path.substr(0, 65535), json->getValue<std::string>("path"));
    }

    void testOrderAcrossFlushesAndShards() {
        // Two shards filled from two threads while the writer flushes: every record arrives
        // once, each shard's in order, and buffers reused across flushes keep nothing stale.
        berth::test::TempDir dir;
        const std::string file = dir.file("access.log");
        AccessLog log(file, 0, 1);
        AccessLog::Shard* shards[2] = {log.createShard(), log.createShard()};
        log.start();
        constexpr int kPerShard = 20000;
        std::vector<std::thread> threads;
        for (int s = 0; s < 2; ++s)
            threads.emplace_back([&, s] {
                std::string path;
                for (int i = 0; i < kPerShard; ++i) {
                    AccessRecord r = exampleRecord();
                    path = "/s" + std::to_string(s) + "/" + std::to_string(i) + std::string(i % 50, 'z');
                    r.path = path;
                    r.bytes = static_cast<std::uint32_t>(i);
                    r.status = static_cast<std::uint16_t>(200 + s);
                    log.record(shards[s], r);
                    if (i % 5000 == 4999) std::this_thread::sleep_for(std::chrono::milliseconds(250));
                }
            });
        for (std::thread& t : threads) t.join();
        log.stop();
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), log.dropped());
        std::vector<std::string> lines = splitLines(readAll(file));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2 * kPerShard), lines.size());
        int next[2] = {0, 0};
        for (const std::string& line : lines) {
            Poco::JSON::Object::Ptr json = parseLine(line);
            int s = json->getValue<int>("status") - 200;
            CPPUNIT_ASSERT(s == 0 || s == 1);
            int i = json->getValue<int>("bytes");
            CPPUNIT_ASSERT_EQUAL(next[s], i);
            CPPUNIT_ASSERT_EQUAL(
                "/s" + std::to_string(s) + "/" + std::to_string(i) + std::string(i % 50, 'z'),
                json->getValue<std::string>("path"));
            ++next[s];
        }
    }

    void testFailedWriteCountsEveryLine() {
        AccessLog log("/dev/full", 0, 1);  // every write fails (ENOSPC)
        AccessLog::Shard* shard = log.createShard();
        for (int i = 0; i < 3; ++i) log.record(shard, exampleRecord());
        log.stop();  // one flush, one failed write of three lines
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), log.dropped());
    }

    void testDropsWhenWriterIsBehind() {
        // No writer running: past 8 MB pending, records are dropped and counted, not queued.
        berth::test::TempDir dir;
        const std::string file = dir.file("access.log");
        AccessLog log(file, 0, 1);
        AccessLog::Shard* shard = log.createShard();
        std::string path = "/" + std::string(60000, 'p');
        AccessRecord r = exampleRecord();
        r.path = path;
        constexpr int kRecords = 200;  // ~12 MB
        for (int i = 0; i < kRecords; ++i) log.record(shard, r);
        CPPUNIT_ASSERT(log.dropped() > 0);
        log.stop();
        std::vector<std::string> lines = splitLines(readAll(file));
        CPPUNIT_ASSERT(lines.size() >= 8 * 1024 * 1024 / 60100);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(kRecords), lines.size() + log.dropped());
    }

  private:
    // The file written for `records` recorded into one shard and flushed by stop().
    static std::string logged(const std::vector<AccessRecord>& records) {
        berth::test::TempDir dir;
        const std::string file = dir.file("access.log");
        AccessLog log(file, 0, 1);
        AccessLog::Shard* shard = log.createShard();
        for (const AccessRecord& r : records) log.record(shard, r);
        log.stop();
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), log.dropped());
        return readAll(file);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AccessLogTest);
