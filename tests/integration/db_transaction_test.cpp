// Transactions: commit at the end of the scope, rollback on an exception or rollback(), no
// partial writes when a statement fails, and a pool that stays full answers 503 after pool_wait_ms.
#include <Poco/Logger.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <stdexcept>

#include "berth/db.h"
#include "berth/error.h"
#include "db/database_registry.h"
#include "pg_env.h"

using berth::DbConnection;
using berth::DbTransaction;
using berth::Json;
using berth::server::DatabaseRegistry;
using berth::test::TestRequest;

class DbTransactionTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DbTransactionTest);
    CPPUNIT_TEST(testCommitAtEndOfScope);
    CPPUNIT_TEST(testExplicitCommitAndRollback);
    CPPUNIT_TEST(testExceptionRollsBack);
    CPPUNIT_TEST(testFailedStatementLeavesNoPartialWrites);
    CPPUNIT_TEST(testStatementAfterEndThrows);
    CPPUNIT_TEST(testPoolExhaustedWaitsThen503);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berth::server::DatabaseSettings settings = berth::test::testDatabase();
        settings.poolMax = 2;
        registry_ = std::make_unique<DatabaseRegistry>(std::vector{settings}, Poco::Logger::get("berth.db"));
        table_ = berth::test::uniqueName("tx");
        db().acquire(request_).execute("CREATE TABLE " + table_ + " (id int PRIMARY KEY, v text)");
    }
    void tearDown() override {
        db().acquire(request_).execute("DROP TABLE IF EXISTS " + table_);
        registry_.reset();
    }

    void testCommitAtEndOfScope() {
        {
            DbTransaction tx = db().transaction(request_);
            tx.execute("INSERT INTO " + table_ + " VALUES ($1, $2)", {1, "a"});
            tx.execute("INSERT INTO " + table_ + " VALUES ($1, $2)", {2, "b"});
            CPPUNIT_ASSERT_EQUAL(std::int64_t(0), count());  // not visible outside before the commit
        }
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), count());
    }

    void testExplicitCommitAndRollback() {
        DbTransaction tx = db().transaction(request_);
        tx.execute("INSERT INTO " + table_ + " VALUES (1, 'a')");
        tx.commit();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), count());
        DbTransaction tx2 = db().transaction(request_);
        tx2.execute("INSERT INTO " + table_ + " VALUES (2, 'b')");
        tx2.rollback();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), count());
    }

    void testExceptionRollsBack() {
        try {
            DbTransaction tx = db().transaction(request_);
            tx.execute("INSERT INTO " + table_ + " VALUES (1, 'a')");
            throw std::runtime_error("handler failed");
        } catch (const std::runtime_error&) {
        }
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), count());
    }

    void testFailedStatementLeavesNoPartialWrites() {
        db().acquire(request_).execute("INSERT INTO " + table_ + " VALUES (7, 'existing')");
        try {
            DbTransaction tx = db().transaction(request_);
            tx.execute("INSERT INTO " + table_ + " VALUES (1, 'a')");
            tx.execute("INSERT INTO " + table_ + " VALUES (7, 'duplicate')");
            CPPUNIT_FAIL("no DbError");
        } catch (const berth::DbError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("23505"), e.sqlState());
        }
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), count());
        // A plugin that catches the error and still commits gets an error, not a silent rollback.
        DbTransaction tx = db().transaction(request_);
        tx.execute("INSERT INTO " + table_ + " VALUES (2, 'b')");
        try {
            tx.execute("INSERT INTO " + table_ + " VALUES (7, 'duplicate')");
        } catch (const berth::DbError&) {
        }
        try {
            tx.commit();
            CPPUNIT_FAIL("commit of a failed transaction did not throw");
        } catch (const berth::DbError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("25P02"), e.sqlState());
        }
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), count());
    }

    void testStatementAfterEndThrows() {
        DbTransaction tx = db().transaction(request_);
        tx.commit();
        CPPUNIT_ASSERT_THROW(tx.execute("SELECT 1"), std::logic_error);
        CPPUNIT_ASSERT_THROW(tx.commit(), std::logic_error);
    }

    void testPoolExhaustedWaitsThen503() {
        DbConnection a = db().acquire(request_);
        DbTransaction b = db().transaction(request_);
        auto start = std::chrono::steady_clock::now();
        try {
            db().acquire(request_);
            CPPUNIT_FAIL("a third connection from a pool of 2");
        } catch (const berth::ApiError& e) {
            CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
            CPPUNIT_ASSERT_EQUAL(std::string("database unavailable"), e.message());
        }
        auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(waited.count()) + " ms",
                               waited.count() >= 250 && waited.count() < 2000);
        auto stats = registry_->stats().at(0).primary;
        CPPUNIT_ASSERT_EQUAL(2, stats.inUse);
        CPPUNIT_ASSERT(stats.timeouts >= 1);
        b.commit();  // frees one: the next acquire gets it
        DbConnection c = db().acquire(request_);
        berth::DbResult x = c.query("SELECT 1 AS x");
        CPPUNIT_ASSERT(x[0]["x"] == Json(1));
    }

  private:
    berth::Database& db() { return registry_->get("main"); }
    std::int64_t count() {
        berth::DbResult n = db().acquire(request_).query("SELECT count(*) AS n FROM " + table_);
        return n[0]["n"].asInt();
    }

    std::unique_ptr<DatabaseRegistry> registry_;
    std::string table_;
    TestRequest request_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(DbTransactionTest);
