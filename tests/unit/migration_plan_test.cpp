// The pure side of migrations: the SQL lexer that finds where statements begin (refusing
// transaction control at declaration), the up-only checksum, and the up plan's out-of-order check.
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "migrate/migration_plan.h"

using berth::Migration;
using berth::server::AppliedMigration;
using berth::server::compareMigrations;
using berth::server::migrationChecksum;
using berth::server::MigrationRefused;
using berth::server::migrationSqlProblem;
using berth::server::planUp;
using berth::server::sqlStatementHeads;
using Heads = std::vector<std::vector<std::string>>;

class MigrationPlanTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MigrationPlanTest);
    CPPUNIT_TEST(testStatementHeads);
    CPPUNIT_TEST(testQuotesAndCommentsHideSemicolons);
    CPPUNIT_TEST(testTransactionControlRefused);
    CPPUNIT_TEST(testAllowedLookAlikes);
    CPPUNIT_TEST(testCommentOnlyRefused);
    CPPUNIT_TEST(testChecksumIsUpOnly);
    CPPUNIT_TEST(testOutOfOrderRefused);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testStatementHeads() {
        CPPUNIT_ASSERT(Heads({{"CREATE", "TABLE", "T"}, {"DROP", "TABLE", "U"}}) ==
                       sqlStatementHeads("create table t (id int);\n drop table u;;"));
        CPPUNIT_ASSERT(Heads({{"SELECT", ""}}) == sqlStatementHeads("SELECT 'a;b'"));
        CPPUNIT_ASSERT(sqlStatementHeads("  -- nothing\n /* at; all */ ;").empty());
    }

    void testQuotesAndCommentsHideSemicolons() {
        // Every ';' and every COMMIT below is inside a string, identifier, comment or body.
        const char* sql =
            "INSERT INTO t VALUES ('it''s; COMMIT'), (E'\\'; COMMIT'), ($$ ; COMMIT $$), "
            "($body$ $$; COMMIT $body$);"
            " -- COMMIT;\n"
            " /* outer /* nested; COMMIT */ still; COMMIT */"
            " CREATE TABLE \"a;COMMIT\" (id int);"
            " DO $$ BEGIN PERFORM 1; END $$;"
            " CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; "
            "SELECT 2; END;"
            " SELECT $1";
        Heads heads = sqlStatementHeads(sql);
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), heads.size());
        CPPUNIT_ASSERT_EQUAL(std::string("INSERT"), heads[0][0]);
        CPPUNIT_ASSERT_EQUAL(std::string("CREATE"), heads[1][0]);
        CPPUNIT_ASSERT_EQUAL(std::string("DO"), heads[2][0]);
        CPPUNIT_ASSERT_EQUAL(std::string("CREATE"), heads[3][0]);
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT"), heads[4][0]);
        CPPUNIT_ASSERT_EQUAL(std::string(), migrationSqlProblem(sql));
    }

    void testTransactionControlRefused() {
        for (const char* sql : {"CREATE TABLE t (id int); COMMIT", "begin; create table t (id int)",
                                "BEGIN WORK", "START TRANSACTION", "END", "ROLLBACK", "abort",
                                "PREPARE TRANSACTION 'x'", "COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'",
                                "/* c */ -- c\n  commit  ;", "SELECT ';'; COMMIT"}) {
            std::string problem = migrationSqlProblem(sql);
            CPPUNIT_ASSERT_MESSAGE(sql, problem.find("must not begin or end") != std::string::npos);
        }
        CPPUNIT_ASSERT(migrationSqlProblem("SELECT 1; COMMIT").find("statement 2 is COMMIT") == 0);
    }

    void testAllowedLookAlikes() {
        for (const char* sql :
             {"SAVEPOINT s; CREATE TABLE t (id int); RELEASE SAVEPOINT s",
              "SAVEPOINT s; ROLLBACK TO SAVEPOINT s", "ROLLBACK WORK TO s", "PREPARE q AS SELECT 1",
              "CREATE TABLE commit_log (\"end\" int)", "SELECT 1 AS begin_at"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(sql, std::string(), migrationSqlProblem(sql));
    }

    void testCommentOnlyRefused() {
        CPPUNIT_ASSERT(migrationSqlProblem("-- CREATE TABLE t (id int)").find("no SQL statement") !=
                       std::string::npos);
        CPPUNIT_ASSERT(migrationSqlProblem(" ; ").find("no SQL statement") != std::string::npos);
    }

    void testChecksumIsUpOnly() {
        Migration a{1, "a", "me", "CREATE TABLE t (id int)", "DROP TABLE t"};
        Migration b = a;
        b.down = "DROP TABLE IF EXISTS t";
        CPPUNIT_ASSERT_EQUAL(migrationChecksum(a), migrationChecksum(b));
        b.up += " ";
        CPPUNIT_ASSERT(migrationChecksum(a) != migrationChecksum(b));
        // A row recorded by the first release (up and down framed) still counts as applied.
        AppliedMigration row{
            "p", 1, "a", "me", "2024-01-01T00:00:00Z", berth::server::legacyMigrationChecksum(a)};
        auto status = compareMigrations("p", {a}, {row});
        CPPUNIT_ASSERT(status[0].state == berth::server::MigrationState::Applied);
    }

    void testOutOfOrderRefused() {
        Migration one{1, "one", "me", "SELECT 1", ""};
        Migration five{5, "five", "me", "SELECT 5", ""};
        Migration ten{10, "ten", "me", "SELECT 10", ""};
        AppliedMigration r1{"p", 1, "one", "me", "", migrationChecksum(one)};
        AppliedMigration r10{"p", 10, "ten", "me", "", migrationChecksum(ten)};
        auto status = compareMigrations("p", {one, five, ten}, {r1, r10});
        try {
            planUp(status, std::nullopt);
            CPPUNIT_FAIL("out of order must be refused");
        } catch (const MigrationRefused& e) {
            std::string what = e.what();
            CPPUNIT_ASSERT_MESSAGE(what, what.find("migration p 5 (five) is pending but version 10") == 0);
            CPPUNIT_ASSERT_MESSAGE(what, what.find("--allow-out-of-order") != std::string::npos);
        }
        auto steps = planUp(status, std::nullopt, true);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), steps.size());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), steps[0].version);
        CPPUNIT_ASSERT(planUp(compareMigrations("p", {one, five}, {r1}), std::nullopt).size() == 1);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MigrationPlanTest);
