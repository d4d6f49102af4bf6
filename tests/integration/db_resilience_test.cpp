// PostgreSQL going away while berthd runs: requests during the outage get 503 "database
// unavailable" quickly (no crash, no hang), and the pools recover by themselves once it is back —
// in process, and over HTTP with berthd as a process and a plugin that uses ctx.db().
#include <Poco/Logger.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <thread>

#include "berth/db.h"
#include "berth/error.h"
#include "berthd_process.h"
#include "db/database_registry.h"
#include "http_probe.h"
#include "pg_env.h"

using berth::Json;
using berth::server::DatabaseRegistry;
using berth::test::TestRequest;
using Clock = std::chrono::steady_clock;

namespace {

long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

class DbResilienceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DbResilienceTest);
    CPPUNIT_TEST(testRestartRecoversWithoutErrors);
    CPPUNIT_TEST(testOutageIs503ThenRecovers);
    CPPUNIT_TEST(testBerthdOutageOverHttp);
    CPPUNIT_TEST_SUITE_END();

  public:
    // Whatever happened, leave both clusters running for the next test.
    void tearDown() override { berth::test::postgresScript("start --replica >/dev/null"); }

    // Idle pooled sessions die with the server; the next requests must not see that.
    void testRestartRecoversWithoutErrors() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        {
            // Two sessions idle in the pool afterwards.
            berth::DbConnection a = registry.get("main").acquire(request_);
            berth::DbConnection b = registry.get("main").acquire(request_);
            a.query("SELECT 1");
            b.query("SELECT 1");
        }
        berth::test::postgresScript("restart >/dev/null");
        for (int i = 0; i < 3; ++i) {
            berth::DbConnection conn = registry.get("main").acquire(request_);
            berth::DbResult one = conn.query("SELECT 1 AS one");
            CPPUNIT_ASSERT(one[0]["one"] == Json(1));
        }
        auto stats = registry.stats()[0].primary;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(stats.created),
                               stats.created >= 3);  // new sessions after the restart
    }

    void testOutageIs503ThenRecovers() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        registry.get("main").acquire(request_).query("SELECT 1");  // one idle session
        berth::test::postgresScript("stop >/dev/null");
        for (int i = 0; i < 3; ++i) {
            auto start = Clock::now();
            try {
                if (i == 2) {
                    registry.get("main").transaction(request_);
                } else {
                    registry.get("main").acquire(request_).query("SELECT 1");
                }
                CPPUNIT_FAIL("no error while the database is down");
            } catch (const berth::ApiError& e) {
                CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
                CPPUNIT_ASSERT_EQUAL(std::string("database unavailable"), e.message());
            }
            CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) < 3000);
        }
        CPPUNIT_ASSERT(registry.stats()[0].primary.errors >= 3);
        CPPUNIT_ASSERT_EQUAL(0, registry.stats()[0].primary.inUse);
        berth::test::postgresScript("start --replica >/dev/null");
        berth::DbConnection conn = registry.get("main").acquire(request_);
        berth::DbResult one = conn.query("SELECT 1 AS one");
        CPPUNIT_ASSERT(one[0]["one"] == Json(1));
    }

    void testBerthdOutageOverHttp() {
        berth::test::PgEnv env = berth::test::pgEnv();
        berth::test::BerthdProcess berthd;
        berthd.addFixture("db_probe");
        berthd.set("db.main.host", env.host);
        berthd.set("db.main.port", std::to_string(env.port));
        berthd.set("db.main.dbname", env.database);
        berthd.set("db.main.user", env.user);
        berthd.set("db.main.password", "${system.env.BERTH_PG_PASSWORD}");
        berthd.set("db.main.statement_timeout_ms", "3000");
        berthd.set("db.main.connect_timeout_s", "2");
        berthd.set("db.main.replicas", env.host + ":" + std::to_string(env.replicaPort));
        berthd.start();
        berth::test::HttpProbe http(berthd.port(), 10000);

        berth::test::HttpResult ok = http.get("/db_probe/ping");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(ok.describe() + berthd.log(), 200, ok.status);
        CPPUNIT_ASSERT_MESSAGE(ok.body,
                               ok.body.find(R"("data":[{"one":1,"replica":true}])") != std::string::npos);
        berth::test::HttpResult tx = http.get("/db_probe/tx/41");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(tx.describe(), 200, tx.status);
        CPPUNIT_ASSERT(tx.body.find(R"("data":{"n":42})") != std::string::npos);

        berth::test::postgresScript("stop >/dev/null");
        for (const char* path : {"/db_probe/ping", "/db_probe/echo/5", "/db_probe/tx/1"}) {
            auto start = Clock::now();
            berth::test::HttpResult down = http.get(path);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(down.describe(), 503, down.status);
            CPPUNIT_ASSERT_EQUAL(std::string("database unavailable"),
                                 down.json()->getValue<std::string>("message"));
            CPPUNIT_ASSERT_EQUAL(false, down.json()->getValue<bool>("status"));
            CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) < 5000);
        }
        CPPUNIT_ASSERT(berthd.running());

        berth::test::postgresScript("start --replica >/dev/null");
        berth::test::HttpResult back;
        auto start = Clock::now();
        for (;;) {  // the replica is skipped for 5 s after it failed; the primary serves meanwhile
            back = http.get("/db_probe/echo/5");
            if (back.status == 200 || msSince(start) > 10000) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        CPPUNIT_ASSERT_EQUAL_MESSAGE(back.describe() + berthd.log(), 200, back.status);
        CPPUNIT_ASSERT(back.body.find(R"("data":{"n":5,"s":"x"})") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(200, http.get("/db_probe/tx/1").status);
        berth::test::HttpResult metrics = http.get("/metrics");
        CPPUNIT_ASSERT(metrics.body.find("berth_db_errors_total{database=\"main\",role=\"primary\"") !=
                       std::string::npos);
        CPPUNIT_ASSERT_EQUAL(0, berthd.stop());
    }

  private:
    TestRequest request_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(DbResilienceTest);
