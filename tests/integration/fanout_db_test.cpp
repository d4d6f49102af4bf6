// berth::gather with database queries as tasks, against the local PostgreSQL: each task takes a
// connection of its own (three backends, three pids), the queries run at once, and a query and a
// downstream call can be gathered together. The TaskRequest carries the handler's request id; with
// tracing on, a query in a task is a span of the request's trace, a child of the request's span.
#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/TemporaryFile.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <set>

#include "berth/db.h"
#include "berth/fanout.h"
#include "berth/testing.h"
#include "berthd_process.h"
#include "client/host_http_client.h"
#include "db/database_registry.h"
#include "fanout/fanout_executor.h"
#include "pg_env.h"
#include "stopwatch.h"
#include "trace/current_span.h"
#include "trace/tracing.h"
#include "zipkin_schema.h"

using berth::Json;
using berth::TaskRequest;
using berth::server::DatabaseRegistry;
using berth::server::FanOutExecutor;
using berth::test::TestRequest;
using std::chrono::milliseconds;

class FanOutDbTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FanOutDbTest);
    CPPUNIT_TEST(testQueriesRunAtOnceOnTheirOwnConnections);
    CPPUNIT_TEST(testQueryAndDownstreamCallTogether);
    CPPUNIT_TEST(testQuerySpanIsAChildOfTheRequestSpan);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berth::server::DatabaseSettings settings = berth::test::testDatabase();
        settings.poolMax = 4;
        registry_ = std::make_unique<DatabaseRegistry>(std::vector{settings}, Poco::Logger::get("berth.db"));
        executor_ = std::make_unique<FanOutExecutor>(berth::server::FanOutSettings{4, 16},
                                                     Poco::Logger::get("berth.fanout"));
        berth::setFanOutRunner(executor_.get());
    }
    void tearDown() override {
        berth::setFanOutRunner(nullptr);
        executor_.reset();
        registry_.reset();
    }

    void testQueriesRunAtOnceOnTheirOwnConnections() {
        berth::Database* db = &registry_->get("main");
        TestRequest handlerRequest("fanout-db-1");
        TaskRequest request(handlerRequest);
        auto query = [db, request] {
            berth::DbResult rows =
                db->acquire(request).query("SELECT pg_backend_pid() AS pid, pg_sleep(0.3)::text AS slept");
            return rows[0]["pid"].asInt();
        };
        auto started = berth::test::Clock::now();
        auto [a, b, c] = berth::gather(milliseconds(5000), query, query, query);
        long long took = berth::test::msSince(started);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("three connections", std::size_t(3),
                                     std::set<std::int64_t>({a, b, c}).size());
        // One after another: 900 ms.
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 300 && took < 700);
        CPPUNIT_ASSERT_EQUAL(std::string("fanout-db-1"), std::string(request.requestId()));
    }

    void testQueryAndDownstreamCallTogether() {
        berth::testing::MockService users;
        users.get("/users/9", Json::object({{"id", 9}})).delay(milliseconds(300));
        berth::server::ClientSettings settings;
        settings.name = "user-service";
        settings.host = "127.0.0.1";
        settings.port = users.port();
        berth::server::HostHttpClient client(settings, Poco::Logger::get("berth.clients"));
        berth::HttpClient* http = &client;
        berth::Database* db = &registry_->get("main");
        TaskRequest request(TestRequest("fanout-db-2"));
        auto started = berth::test::Clock::now();
        auto [count, user] = berth::gather(
            milliseconds(5000),
            [db, request] {
                berth::DbResult rows = db->acquire(request).query("SELECT 41 + 1 AS n, pg_sleep(0.3)::text");
                return rows[0]["n"].asInt();
            },
            [http] { return http->getJson("/users/9"); });
        long long took = berth::test::msSince(started);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), count);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":9})"), user.dump());
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 300 && took < 550);
    }

    void testQuerySpanIsAChildOfTheRequestSpan() {
        const std::string spanFile = Poco::TemporaryFile::tempName() + "-spans.jsonl";
        berth::server::TraceSettings settings;
        settings.enabled = true;
        settings.file = spanFile;
        settings.flushIntervalMs = 20;
        auto tracing = std::make_unique<berth::server::Tracing>(settings, Poco::Logger::get("berth.tracing"));
        berth::server::TraceContext requestSpan;  // the request's server span
        requestSpan.traceHigh = 0x463ac35c9f6413adull;
        requestSpan.traceLow = 0x48485a3953bb6124ull;
        requestSpan.spanId = 0x1111111111111111ull;
        requestSpan.sampled = true;
        berth::Database* db = &registry_->get("main");
        {
            berth::server::CurrentSpanScope current(&requestSpan);
            TaskRequest request(TestRequest("fanout-db-3"));
            auto [n] = berth::gather(milliseconds(5000), [db, request] {
                berth::DbResult rows = db->acquire(request).query("SELECT 41 + 1 AS n");
                return rows[0]["n"].asInt();
            });
            CPPUNIT_ASSERT_EQUAL(std::int64_t(42), n);
        }
        tracing->stop();
        std::vector<Poco::JSON::Object::Ptr> spans = berth::test::parseLines(berth::test::readFile(spanFile));
        Poco::File(spanFile).remove();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), spans.size());
        CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(spans[0]));
        CPPUNIT_ASSERT_EQUAL(std::string("463ac35c9f6413ad48485a3953bb6124"),
                             spans[0]->getValue<std::string>("traceId"));
        CPPUNIT_ASSERT_EQUAL(std::string("1111111111111111"), spans[0]->getValue<std::string>("parentId"));
        CPPUNIT_ASSERT_EQUAL(std::string("postgresql"),
                             spans[0]->getObject("remoteEndpoint")->getValue<std::string>("serviceName"));
    }

  private:
    std::unique_ptr<DatabaseRegistry> registry_;
    std::unique_ptr<FanOutExecutor> executor_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(FanOutDbTest);
