// The database layer's safety rules, each against the real PostgreSQL: COPY is refused instead of
// spinning; a lost connection fails the transaction for good and is never retried once the
// statement was sent; a protocol error is a DbError, not an outage; failed connects back off;
// stats() never waits for a connect; session state never reaches the next borrower; a failed
// commit at the end of a DbTransaction scope neither aborts the host nor lets the handler's reply
// through; release and COMMIT are bounded against a stalled backend; values keep their precision
// and NUL bytes are refused.
#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <cppunit/extensions/HelperMacros.h>
#include <signal.h>

#include <chrono>
#include <optional>
#include <thread>

#include "berth/db.h"
#include "berth/error.h"
#include "berthd_process.h"
#include "db/database_registry.h"
#include "db/scope_end_failure.h"
#include "http_probe.h"
#include "pg_env.h"

using berth::DbConnection;
using berth::DbResult;
using berth::DbTransaction;
using berth::Json;
using berth::server::DatabaseRegistry;
using berth::server::DatabaseSettings;
using berth::test::TestRequest;
using Clock = std::chrono::steady_clock;

namespace {

long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Stops a backend process (SIGSTOP) for the scope: a server that no longer answers.
class StalledBackend {
  public:
    explicit StalledBackend(int pid) : pid_(pid) { ::kill(pid_, SIGSTOP); }
    ~StalledBackend() { ::kill(pid_, SIGCONT); }

  private:
    int pid_;
};

}  // namespace

class DbSafetyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DbSafetyTest);
    CPPUNIT_TEST(testCopyIsRefused);
    CPPUNIT_TEST(testLostConnectionFailsTheTransaction);
    CPPUNIT_TEST(testNoRetryAfterTheStatementWasSent);
    CPPUNIT_TEST(testProtocolErrorIsDbError);
    CPPUNIT_TEST(testConnectFailuresBackOff);
    CPPUNIT_TEST(testStatsPromptWhileConnectHangs);
    CPPUNIT_TEST(testSessionStateIsReset);
    CPPUNIT_TEST(testFailedTransactionResetDoesNotAbort);
    CPPUNIT_TEST(testScopeEndCommitFailureIsRecorded);
    CPPUNIT_TEST(testScopeEndCommitFailureOverHttp);
    CPPUNIT_TEST(testRollbackOfStalledBackendIsBounded);
    CPPUNIT_TEST(testLostCommitIsOutcomeUnknown);
    CPPUNIT_TEST(testNumbersKeepTheirPrecision);
    CPPUNIT_TEST(testNulBytesAreRefused);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        table_ = berth::test::uniqueName("safety");
        berth::server::takeScopeEndFailure();
    }
    void tearDown() override {
        try {
            DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
            DbConnection conn = registry.get("main").acquire(request_);
            conn.execute("DROP TABLE IF EXISTS " + table_);
            conn.execute("DROP PROCEDURE IF EXISTS " + table_ + "_p()");
        } catch (...) {
        }
    }

    void testCopyIsRefused() {
        DatabaseSettings settings = berth::test::testDatabase();
        settings.poolMax = 1;
        DatabaseRegistry registry({settings}, Poco::Logger::get("berth.db"));
        DbConnection conn = registry.get("main").acquire(request_);
        conn.execute("CREATE TABLE " + table_ + " (id int)");
        for (const std::string& sql :
             {"COPY " + table_ + " FROM STDIN", std::string("COPY (SELECT 1) TO STDOUT")}) {
            auto start = Clock::now();
            try {
                conn.query(sql);
                CPPUNIT_FAIL("no error for " + sql);
            } catch (const berth::DbError& e) {
                CPPUNIT_ASSERT_EQUAL_MESSAGE(sql, std::string("0A000"), e.sqlState());
            }
            CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) < 1000);
            DbResult one = conn.query("SELECT 1 AS one");  // the handle still works
            CPPUNIT_ASSERT(one[0]["one"] == Json(1));
        }
    }

    void testLostConnectionFailsTheTransaction() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        berth::Database& db = registry.get("main");
        db.acquire(request_).execute("CREATE TABLE " + table_ + " (id int)");
        {
            DbTransaction tx = db.transaction(request_);
            tx.execute("INSERT INTO " + table_ + " VALUES (1)");
            DbResult pid = tx.query("SELECT pg_backend_pid() AS pid");
            db.acquire(request_).query("SELECT pg_terminate_backend($1)", {pid[0]["pid"]});
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            for (int i = 0; i < 2; ++i) {  // a handler that catches the 503 and goes on
                try {
                    tx.execute("INSERT INTO " + table_ + " VALUES (2)");
                    CPPUNIT_FAIL("a statement on a lost transaction succeeded");
                } catch (const berth::ApiError& e) {
                    CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
                }
            }
            try {
                tx.commit();
                CPPUNIT_FAIL("the commit of a lost transaction succeeded");
            } catch (const berth::ApiError& e) {
                CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
            }
        }
        {
            // The same, left to the end of the scope: the request is answered with the 503.
            DbTransaction tx = db.transaction(request_);
            DbResult pid = tx.query("SELECT pg_backend_pid() AS pid");
            db.acquire(request_).query("SELECT pg_terminate_backend($1)", {pid[0]["pid"]});
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            CPPUNIT_ASSERT_THROW(tx.execute("INSERT INTO " + table_ + " VALUES (3)"), berth::ApiError);
        }
        std::optional<berth::server::ScopeEndFailure> failure = berth::server::takeScopeEndFailure();
        CPPUNIT_ASSERT(failure.has_value());
        CPPUNIT_ASSERT_EQUAL(503, failure->status);
        DbResult n = db.acquire(request_).query("SELECT count(*) AS n FROM " + table_);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), n[0]["n"].asInt());
    }

    // A procedure that commits and then loses its connection: the statement ran, so running it
    // again on another connection would write twice.
    void testNoRetryAfterTheStatementWasSent() {
        DatabaseSettings settings = berth::test::testDatabase();
        settings.poolMax = 1;
        DatabaseRegistry registry({settings}, Poco::Logger::get("berth.db"));
        berth::Database& db = registry.get("main");
        db.acquire(request_).execute("CREATE TABLE " + table_ + " (id int)");
        db.acquire(request_).execute("CREATE PROCEDURE " + table_ +
                                     "_p() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO " + table_ +
                                     " VALUES (1); COMMIT; PERFORM pg_terminate_backend(pg_backend_pid()); "
                                     "PERFORM pg_sleep(1); END $$");
        try {
            DbConnection conn = db.acquire(request_);  // a reused session: the old code retried on it
            conn.execute("CALL " + table_ + "_p()");
            CPPUNIT_FAIL("no error");
        } catch (const berth::ApiError& e) {
            CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
        }
        DbResult n = db.acquire(request_).query("SELECT count(*) AS n FROM " + table_);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), n[0]["n"].asInt());
    }

    void testProtocolErrorIsDbError() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        DbConnection conn = registry.get("main").acquire(request_);
        conn.query("SELECT 1");
        try {
            conn.query("SELECT 1", {1, 2});  // more parameters than placeholders: 08P01
            CPPUNIT_FAIL("no error");
        } catch (const berth::DbError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("08P01"), e.sqlState());
        }
        DbResult one = conn.query("SELECT 1 AS one");  // same healthy connection
        CPPUNIT_ASSERT(one[0]["one"] == Json(1));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), registry.stats()[0].primary.errors);
    }

    // Poco 1.11 leaks every failed connect: while the server is away, a few attempts at most.
    void testConnectFailuresBackOff() {
        DatabaseSettings settings = berth::test::testDatabase();
        settings.primary.port = berth::test::pickFreePort();  // refused
        DatabaseRegistry registry({settings}, Poco::Logger::get("berth.db"));
        int requests = 0;
        auto start = Clock::now();
        while (msSince(start) < 1000) {
            try {
                registry.get("main").acquire(request_);
                CPPUNIT_FAIL("a connection to nobody");
            } catch (const berth::ApiError& e) {
                CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
            }
            ++requests;
        }
        auto stats = registry.stats()[0].primary;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(requests), requests > 100);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(stats.connectFailures),
                               stats.connectFailures >= 1 && stats.connectFailures <= 4);
        CPPUNIT_ASSERT_EQUAL(0, stats.inUse);
    }

    // A server that accepts and never answers: connects hang up to connect_timeout_s, and
    // meanwhile stats() (the /metrics endpoint, on an I/O loop) must not wait.
    void testStatsPromptWhileConnectHangs() {
        Poco::Net::ServerSocket blackhole(Poco::Net::SocketAddress("127.0.0.1", 0));  // never accepts
        DatabaseSettings settings = berth::test::testDatabase();
        settings.primary.port = blackhole.address().port();
        settings.connectTimeoutS = 2;
        settings.poolWaitMs = 300;
        DatabaseRegistry registry({settings}, Poco::Logger::get("berth.db"));
        long long stuckMs = 0;
        std::thread stuck([&] {
            auto start = Clock::now();
            try {
                TestRequest request;
                registry.get("main").acquire(request);
            } catch (const berth::ApiError&) {
            }
            stuckMs = msSince(start);
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto start = Clock::now();
        std::string metrics;
        registry.renderMetrics(metrics);
        auto stats = registry.stats();
        long long statsMs = msSince(start);
        start = Clock::now();
        CPPUNIT_ASSERT_THROW(registry.get("main").acquire(request_), berth::ApiError);
        long long waitedMs = msSince(start);
        stuck.join();
        CPPUNIT_ASSERT_MESSAGE(std::to_string(statsMs) + " ms", statsMs < 100);
        CPPUNIT_ASSERT_EQUAL(1, stats[0].primary.inUse);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(waitedMs) + " ms", waitedMs >= 250 && waitedMs < 800);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(stuckMs) + " ms", stuckMs < 2000 + 300 + 1500);
    }

    void testSessionStateIsReset() {
        DatabaseSettings settings = berth::test::testDatabase();
        settings.poolMax = 1;
        DatabaseRegistry registry({settings}, Poco::Logger::get("berth.db"));
        berth::Database& db = registry.get("main");
        Json pid;
        {
            DbConnection a = db.acquire(request_);
            a.execute("SET statement_timeout = 1234");
            a.execute("SET TimeZone = 'Asia/Tokyo'");
            a.execute("SET search_path = pg_catalog");
            a.query("SELECT pg_advisory_lock(4242)");
            DbResult p = a.query("SELECT pg_backend_pid() AS pid");
            pid = p[0]["pid"];
        }
        DbConnection b = db.acquire(request_);
        DbResult p = b.query("SELECT pg_backend_pid() AS pid");
        CPPUNIT_ASSERT_MESSAGE("the same session, reset", p[0]["pid"] == pid);
        DbResult timeout = b.query("SHOW statement_timeout");
        CPPUNIT_ASSERT_EQUAL(std::string("5s"), timeout[0].at(0).asString());
        DbResult zone = b.query("SHOW TimeZone");
        CPPUNIT_ASSERT_EQUAL(std::string("UTC"), zone[0].at(0).asString());
        DbResult path = b.query("SHOW search_path");
        CPPUNIT_ASSERT(path[0].at(0).asString() != "pg_catalog");
        DbResult locks = b.query(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), locks[0]["n"].asInt());
    }

    void testFailedTransactionResetDoesNotAbort() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        berth::Database& db = registry.get("main");
        db.acquire(request_).execute("CREATE TABLE " + table_ + " (id int PRIMARY KEY)");
        std::optional<DbTransaction> tx(db.transaction(request_));
        tx->execute("INSERT INTO " + table_ + " VALUES (1)");
        CPPUNIT_ASSERT_THROW(tx->execute("INSERT INTO " + table_ + " VALUES (1)"), berth::DbError);
        tx.reset();  // the commit fails (25P02): used to throw from a noexcept context, std::terminate
        std::optional<berth::server::ScopeEndFailure> failure = berth::server::takeScopeEndFailure();
        CPPUNIT_ASSERT(failure.has_value());
        CPPUNIT_ASSERT_EQUAL(500, failure->status);
        CPPUNIT_ASSERT_EQUAL(0, registry.stats()[0].primary.inUse);
    }

    void testScopeEndCommitFailureIsRecorded() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        berth::Database& db = registry.get("main");
        db.acquire(request_).execute("CREATE TABLE " + table_ +
                                     " (id int, UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)");
        {
            DbTransaction tx = db.transaction(request_);
            tx.execute("INSERT INTO " + table_ + " VALUES (1)");
            tx.execute("INSERT INTO " + table_ + " VALUES (1)");  // checked at COMMIT only
        }
        std::optional<berth::server::ScopeEndFailure> failure = berth::server::takeScopeEndFailure();
        CPPUNIT_ASSERT(failure.has_value());
        CPPUNIT_ASSERT_EQUAL(500, failure->status);
        DbResult n = db.acquire(request_).query("SELECT count(*) AS n FROM " + table_);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), n[0]["n"].asInt());
    }

    void testScopeEndCommitFailureOverHttp() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        registry.get("main").acquire(request_).execute(
            "CREATE TABLE " + table_ + " (id int, UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)");
        berth::test::PgEnv env = berth::test::pgEnv();
        berth::test::BerthdProcess berthd;
        berthd.addFixture("db_probe");
        berthd.set("db.main.host", env.host);
        berthd.set("db.main.port", std::to_string(env.port));
        berthd.set("db.main.dbname", env.database);
        berthd.set("db.main.user", env.user);
        berthd.set("db.main.password", env.password);
        berthd.start();
        berth::test::HttpProbe http(berthd.port(), 10000);
        berth::test::HttpCall call;
        call.method = "POST";
        call.target = "/db_probe/deferred/" + table_;
        call.contentLength = true;
        berth::test::HttpResult r = http.send(call);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe() + berthd.log(), 500, r.status);
        CPPUNIT_ASSERT_EQUAL(false, r.json()->getValue<bool>("status"));
        CPPUNIT_ASSERT_MESSAGE(r.body, r.body.find("written") == std::string::npos);
        CPPUNIT_ASSERT(berthd.running());
        DbResult n = registry.get("main").acquire(request_).query("SELECT count(*) AS n FROM " + table_);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), n[0]["n"].asInt());
        CPPUNIT_ASSERT_EQUAL(0, berthd.stop());
    }

    void testRollbackOfStalledBackendIsBounded() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        DbTransaction tx = registry.get("main").transaction(request_);
        DbResult pid = tx.query("SELECT pg_backend_pid() AS pid");
        StalledBackend stalled(static_cast<int>(pid[0]["pid"].asInt()));
        auto start = Clock::now();
        tx.rollback();
        CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) < 2000);
        CPPUNIT_ASSERT_EQUAL(0, registry.stats()[0].primary.inUse);
    }

    void testLostCommitIsOutcomeUnknown() {
        DatabaseSettings settings = berth::test::testDatabase();
        settings.statementTimeoutMs = 200;  // client deadline 2.2 s
        DatabaseRegistry registry({settings}, Poco::Logger::get("berth.db"));
        DbTransaction tx = registry.get("main").transaction(request_);
        DbResult pid = tx.query("SELECT pg_backend_pid() AS pid");
        StalledBackend stalled(static_cast<int>(pid[0]["pid"].asInt()));
        try {
            tx.commit();
            CPPUNIT_FAIL("a commit on a stalled backend succeeded");
        } catch (const berth::DbError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("08007"), e.sqlState());
            CPPUNIT_ASSERT(std::string(e.what()).find("outcome unknown") != std::string::npos);
        }
    }

    void testNumbersKeepTheirPrecision() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        DbConnection conn = registry.get("main").acquire(request_);
        conn.execute("CREATE TABLE " + table_ + " (f float8, n numeric)");
        conn.execute("INSERT INTO " + table_ + " VALUES ($1, $2)", {0.1, 0.1});
        DbResult text = conn.query("SELECT f::text AS f, n::text AS n FROM " + table_);
        CPPUNIT_ASSERT_EQUAL(std::string("0.1"), text[0]["f"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("0.1"), text[0]["n"].asString());
        DbResult big = conn.query("SELECT 12345678901234567890.123::numeric AS n, 2.5::numeric AS m");
        CPPUNIT_ASSERT(big[0]["n"] == Json("12345678901234567890.123"));
        CPPUNIT_ASSERT(big[0]["m"] == Json(2.5));
    }

    void testNulBytesAreRefused() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        DbConnection conn = registry.get("main").acquire(request_);
        for (auto [sql, param] :
             {std::pair<std::string, std::string>{"SELECT $1::text AS t", std::string("a\0b", 3)},
              {std::string("SELECT 1\0; DROP TABLE x", 23), "x"}}) {
            try {
                conn.query(sql, {param});
                CPPUNIT_FAIL("a NUL byte went through");
            } catch (const berth::DbError& e) {
                CPPUNIT_ASSERT_EQUAL(std::string("22021"), e.sqlState());
            }
        }
        DbResult one = conn.query("SELECT 1 AS one");
        CPPUNIT_ASSERT(one[0]["one"] == Json(1));
    }

  private:
    std::string table_;
    TestRequest request_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(DbSafetyTest);
