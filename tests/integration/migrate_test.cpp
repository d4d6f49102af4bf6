// `berthd migrate status|up|down` against the real PostgreSQL, each test in a schema of its own:
// up/down/status with --to and --plugin, a changed migration refused, a failing migration that
// leaves nothing behind, and two berthd migrating at once (the advisory lock).
#include <Poco/File.h>
#include <Poco/Net/ServerSocket.h>
#include <cppunit/extensions/HelperMacros.h>
#include <libpq-fe.h>

#include <chrono>
#include <thread>

#include "berthd_process.h"
#include "migrate/migration_store.h"
#include "migrate/migrator.h"
#include "pg_env.h"
#include "test_schema.h"

using berth::test::BerthdProcess;
using berth::test::RunResult;
using berth::test::TestSchema;

namespace {

#define ASSERT_CONTAINS(text, part)                                               \
    CPPUNIT_ASSERT_MESSAGE("expected '" + std::string(part) + "' in:\n" + (text), \
                           (text).find(part) != std::string::npos)
#define ASSERT_NOT_CONTAINS(text, part)                                             \
    CPPUNIT_ASSERT_MESSAGE("unexpected '" + std::string(part) + "' in:\n" + (text), \
                           (text).find(part) == std::string::npos)

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

using Rows = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

long long secondsSince(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count() / 1000;
}

// A session of the test's own on the test database, to hold the migration lock as another berthd
// would.
class LockHolder {
  public:
    LockHolder() {
        conn_ = PQconnectdb(
            berth::test::testDatabase().connectionString(berth::test::testDatabase().primary).c_str());
        CPPUNIT_ASSERT_MESSAGE(PQerrorMessage(conn_), PQstatus(conn_) == CONNECTION_OK);
    }
    ~LockHolder() { PQfinish(conn_); }
    std::string value(const std::string& sql) {
        PGresult* r = PQexec(conn_, sql.c_str());
        CPPUNIT_ASSERT_MESSAGE(sql + ": " + PQerrorMessage(conn_), PQresultStatus(r) == PGRES_TUPLES_OK);
        std::string v = PQgetvalue(r, 0, 0);
        PQclear(r);
        return v;
    }
    bool tryLock() {
        return value("SELECT pg_try_advisory_lock(" +
                     std::to_string(berth::server::MigrationStore::kLockKey) + ")") == "t";
    }
    void unlock() {
        value("SELECT pg_advisory_unlock(" + std::to_string(berth::server::MigrationStore::kLockKey) + ")");
    }
    int pid() const { return PQbackendPID(conn_); }
    /// berthd sessions polling for the lock.
    int waiters() {
        return std::stoi(
            value("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'berthd' AND datname = "
                  "current_database() AND query LIKE 'SELECT pg_try_advisory_lock%'"));
    }

  private:
    PGconn* conn_ = nullptr;
};

int closedPort() {
    Poco::Net::ServerSocket socket(0);
    int port = socket.address().port();
    socket.close();
    return port;
}

}  // namespace

class MigrateTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MigrateTest);
    CPPUNIT_TEST(testStatusUpDown);
    CPPUNIT_TEST(testToAndPlugin);
    CPPUNIT_TEST(testChangedMigrationIsRefused);
    CPPUNIT_TEST(testFailingMigrationLeavesNothing);
    CPPUNIT_TEST(testTwoProcessesMigrateOnce);
    CPPUNIT_TEST(testAutoMigrateAtStart);
    CPPUNIT_TEST(testUsageErrors);
    CPPUNIT_TEST(testCommitRefusedAtDeclaration);
    CPPUNIT_TEST(testSqlThatEndsTheTransactionIsReportedTruthfully);
    CPPUNIT_TEST(testAutoMigrateDatabaseUnreachable);
    CPPUNIT_TEST(testAutoMigrateMissingSchemaIsNotRetried);
    CPPUNIT_TEST(testLockWaitNamesHolderAndTimesOut);
    CPPUNIT_TEST(testStopWhileWaitingForTheLock);
    CPPUNIT_TEST(testSessionSettingsDoNotLeak);
    CPPUNIT_TEST(testOutOfOrderRefused);
    CPPUNIT_TEST(testChangedDownIsNotRefused);
    CPPUNIT_TEST(testLockReleasedAfterFailure);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        schema_ = std::make_unique<TestSchema>("mig");
        berthd_ = std::make_unique<BerthdProcess>();
        schema_->configure(*berthd_);
        berthd_->addFixture("migration_fixture");
        berthd_->writePluginSettings("migration_fixture", "table = items\n");
    }
    void tearDown() override {
        berthd_.reset();
        schema_.reset();
    }

    RunResult migrate(std::vector<std::string> args, BerthdProcess* process = nullptr) {
        args.insert(args.begin(), "migrate");
        args.push_back("--config");
        BerthdProcess& p = process != nullptr ? *process : *berthd_;
        args.push_back(p.configFile());
        return p.run(args, 20000);
    }

    void testStatusUpDown() {
        RunResult status = migrate({"status"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(status.output(), 0, status.exitCode);
        ASSERT_CONTAINS(status.out, "database 'main' (" + schema_->name() + ".berth_migrations):");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(status.out, std::size_t(2), count(status.out, " pending "));
        CPPUNIT_ASSERT_MESSAGE("status must not create berth_migrations",
                               !schema_->tableExists("berth_migrations"));

        RunResult up = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.output(), 0, up.exitCode);
        ASSERT_CONTAINS(up.out, "applied migration_fixture 1 (create items)");
        ASSERT_CONTAINS(up.out, "applied migration_fixture 2 (add note to items)");
        CPPUNIT_ASSERT(schema_->columnExists("items", "note"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_fixture:2"}) == schema_->recorded());
        berth::DbResult row = schema_->query(
            "SELECT description, author, checksum, applied_at FROM berth_migrations WHERE version = 1");
        CPPUNIT_ASSERT_EQUAL(std::string("create items"), row[0]["description"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("fixture@example.com"), row[0]["author"].asString());
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), row[0]["checksum"].asString().size());
        CPPUNIT_ASSERT(row[0]["applied_at"].isString());

        status = migrate({"status"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), count(status.out, " applied "));
        RunResult again = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(again.output(), 0, again.exitCode);
        ASSERT_CONTAINS(again.out, "nothing to apply");

        RunResult down = migrate({"down", "--plugin", "migration_fixture"});  // the last one only
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.output(), 0, down.exitCode);
        ASSERT_CONTAINS(down.out, "rolled back migration_fixture 2");
        ASSERT_NOT_CONTAINS(down.out, "rolled back migration_fixture 1");
        CPPUNIT_ASSERT(schema_->tableExists("items"));
        CPPUNIT_ASSERT(!schema_->columnExists("items", "note"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1"}) == schema_->recorded());

        RunResult all = migrate({"down", "--plugin", "migration_fixture", "--to", "0"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all.output(), 0, all.exitCode);
        CPPUNIT_ASSERT(!schema_->tableExists("items"));
        CPPUNIT_ASSERT(schema_->recorded().empty());
        RunResult none = migrate({"down", "--all"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(none.output(), 0, none.exitCode);
        ASSERT_CONTAINS(none.out, "nothing to roll back");
    }

    void testToAndPlugin() {
        berthd_->addFixture("migration_other");
        berthd_->writePluginSettings("migration_other", "table = others\n");
        RunResult one = migrate({"up", "--plugin", "migration_other", "--to", "1"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(one.output(), 0, one.exitCode);
        CPPUNIT_ASSERT(Rows({"migration_other:1"}) == schema_->recorded());
        CPPUNIT_ASSERT(schema_->tableExists("others") && !schema_->tableExists("items"));

        RunResult status = migrate({"status", "--plugin", "migration_other"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(status.output(), 0, status.exitCode);
        ASSERT_NOT_CONTAINS(status.out, "migration_fixture");
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), count(status.out, " applied "));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), count(status.out, " pending "));

        RunResult rest = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(rest.output(), 0, rest.exitCode);
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_fixture:2", "migration_other:1",
                             "migration_other:2"}) == schema_->recorded());

        RunResult downOne = migrate({"down", "--plugin", "migration_fixture", "--to", "1"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(downOne.output(), 0, downOne.exitCode);
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_other:1", "migration_other:2"}) ==
                       schema_->recorded());

        RunResult unknown = migrate({"up", "--plugin", "nobody"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(unknown.output(), 65, unknown.exitCode);
        ASSERT_CONTAINS(unknown.err, "plugin 'nobody' is not loaded");
        RunResult usage = migrate({"sideways"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(usage.output(), 64, usage.exitCode);
        RunResult badTo = migrate({"up", "--plugin", "migration_fixture", "--to", "x"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(badTo.output(), 64, badTo.exitCode);

        // Rows of a plugin that is no longer loaded are listed, not hidden.
        Poco::File(berthd_->path("plugins/migration_other.so")).remove();
        RunResult orphans = migrate({"status"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(orphans.output(), 0, orphans.exitCode);
        ASSERT_CONTAINS(orphans.out, "PLUGIN");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(orphans.out, std::size_t(2), count(orphans.out, " not loaded "));
    }

    void testUsageErrors() {
        RunResult ok = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(ok.output(), 0, ok.exitCode);
        for (std::vector<std::string> args :
             {std::vector<std::string>{"down"},
              {"down", "--to", "0"},
              {"up", "--to", "1"},
              {"down", "--plugin", ""},
              {"down", "--plugin="},
              {"up", "--plugin="},
              {"down", "--plugin", "migration_fixture", "--to="},
              {"down", "--all", "--plugin", "migration_fixture"},
              {"up", "--all"},
              {"up", "--plugin", "migration_fixture", "--plugin", "migration_fixture"},
              {"status", "--allow-out-of-order"}}) {
            RunResult r = migrate(args);
            std::string what;
            for (const std::string& a : args) what += a + " ";
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what + "\n" + r.output(), 64, r.exitCode);
        }
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_fixture:2"}) == schema_->recorded());
        RunResult all = migrate({"down", "--all"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all.output(), 0, all.exitCode);
        CPPUNIT_ASSERT(Rows({"migration_fixture:1"}) == schema_->recorded());
    }

    void testCommitRefusedAtDeclaration() {
        berthd_->writePluginSettings("migration_fixture", "table = items\nwith_commit = true\n");
        RunResult up = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.output(), 78, up.exitCode);
        ASSERT_CONTAINS(up.err, "its up SQL is refused: statement 2 is COMMIT");
        CPPUNIT_ASSERT(!schema_->tableExists("items_c") && !schema_->tableExists("items"));
        RunResult one = migrate({"up", "--plugin", "migration_fixture"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(one.output(), 78, one.exitCode);  // a refused plugin
    }

    // What the declaration check cannot see is caught when the SQL runs: the transaction is gone.
    void testSqlThatEndsTheTransactionIsReportedTruthfully() {
        berth::server::DatabaseSettings db = berth::test::testDatabase();
        db.schema = schema_->name();
        std::string errors;
        berth::server::Migrator migrator({db}, [&](bool isError, const std::string& line) {
            if (isError) errors += line + "\n";
        });
        berth::server::MigrateOptions options;
        options.action = berth::server::MigrateAction::Up;
        berth::Migration ends{1, "ends the transaction", "t", "CREATE TABLE kept (id int); COMMIT", ""};
        berth::Migration fails{1, "commits then fails", "t",
                               "CREATE TABLE kept2 (id int); COMMIT; SELECT no_such_function()", ""};
        for (const berth::Migration& m : {ends, fails}) {
            errors.clear();
            auto outcome = migrator.run({{"raw", {m}}}, options);
            CPPUNIT_ASSERT_MESSAGE(errors, outcome == berth::server::MigrateOutcome::Failed);
            ASSERT_CONTAINS(errors, "statements before that point were committed and not rolled back");
            ASSERT_CONTAINS(errors, "nothing was recorded in berth_migrations");
            ASSERT_NOT_CONTAINS(errors, "nothing of it was applied");
            ASSERT_NOT_CONTAINS(errors, "was rolled back");
        }
        CPPUNIT_ASSERT(schema_->tableExists("kept") && schema_->tableExists("kept2"));
        CPPUNIT_ASSERT(schema_->recorded().empty());
    }

    void testAutoMigrateDatabaseUnreachable() {
        berthd_->set("db.main.auto_migrate", "true");
        berthd_->set("db.main.port", std::to_string(closedPort()));
        berthd_->set("migrate.db_wait_s", "2");
        auto started = Clock::now();
        RunResult r = berthd_->run({"--config", berthd_->configFile()}, 15000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.output(), 69, r.exitCode);
        CPPUNIT_ASSERT_MESSAGE(r.output(), secondsSince(started) <= 5);
        ASSERT_CONTAINS(r.output(), "retrying in");
        ASSERT_CONTAINS(r.output(), "gave up after migrate.db_wait_s = 2 s, exiting with status 69");

        // An undefined ${...} will not get better by waiting: the plugin is refused, berthd serves.
        berthd_->set("db.main.port", "5432");
        berthd_->set("db.main.host", "${system.env.BERTH_SURELY_UNDEFINED}");
        berthd_->start();
        CPPUNIT_ASSERT(berthd_->waitForLog("migrations failed"));
        ASSERT_CONTAINS(berthd_->log(), "BERTH_SURELY_UNDEFINED} is not defined");
        ASSERT_CONTAINS(berthd_->log(), "berthd cannot connect to apply or check migrations");
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

    // A database that answers with an error (here a schema that does not exist) is a settings
    // problem: the plugin is refused at once instead of being retried for migrate.db_wait_s.
    void testAutoMigrateMissingSchemaIsNotRetried() {
        berthd_->set("db.main.auto_migrate", "true");
        berthd_->set("db.main.schema", "berth_surely_missing_schema");
        berthd_->set("migrate.db_wait_s", "30");
        auto started = Clock::now();
        berthd_->start();
        CPPUNIT_ASSERT(berthd_->waitForLog("migrations failed", 5000));
        CPPUNIT_ASSERT_MESSAGE(berthd_->log(), secondsSince(started) <= 10);
        ASSERT_CONTAINS(berthd_->log(), "berth_surely_missing_schema");
        CPPUNIT_ASSERT_MESSAGE(berthd_->log(), berthd_->log().find("retrying in") == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

    void testLockWaitNamesHolderAndTimesOut() {
        LockHolder holder;
        CPPUNIT_ASSERT(holder.tryLock());
        berthd_->set("migrate.lock_timeout_s", "2");
        auto started = Clock::now();
        RunResult up = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.output(), 69, up.exitCode);
        CPPUNIT_ASSERT_MESSAGE(up.output(), secondsSince(started) <= 6);
        std::string pid = "pid " + std::to_string(holder.pid());
        ASSERT_CONTAINS(up.out, "waiting for the migration lock, held by " + pid);
        ASSERT_CONTAINS(up.err, "gave up waiting for the migration lock after 2 s");
        CPPUNIT_ASSERT(schema_->recorded().empty() && !schema_->tableExists("items"));

        // berthd with auto_migrate: the same limit, then exit 69 for the service manager.
        berthd_->set("db.main.auto_migrate", "true");
        RunResult serve = berthd_->run({"--config", berthd_->configFile()}, 15000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(serve.output(), 69, serve.exitCode);
        ASSERT_CONTAINS(serve.output(), "held by " + pid);
    }

    void testStopWhileWaitingForTheLock() {
        LockHolder holder;
        CPPUNIT_ASSERT(holder.tryLock());
        berthd_->set("db.main.auto_migrate", "true");
        berthd_->launchDetached();
        CPPUNIT_ASSERT_MESSAGE(
            berthd_->log(),
            berthd_->waitForLog("waiting for the migration lock, held by pid " + std::to_string(holder.pid()),
                                10000));
        auto stopped = Clock::now();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(berthd_->log(), 0, berthd_->stop());
        CPPUNIT_ASSERT_MESSAGE(berthd_->log(), secondsSince(stopped) <= 2);
        ASSERT_CONTAINS(berthd_->log(), "stop requested while waiting for the migration lock");
        CPPUNIT_ASSERT(schema_->recorded().empty());
    }

    void testSessionSettingsDoNotLeak() {
        berthd_->writePluginSettings("migration_fixture", "table = items\nleak_search_path = true\n");
        RunResult up = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.output(), 0, up.exitCode);
        CPPUNIT_ASSERT(schema_->columnExists("items", "note"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_fixture:2"}) == schema_->recorded());
    }

    void testOutOfOrderRefused() {
        berthd_->writePluginSettings("migration_fixture", "table = items\nextra = 10\n");
        RunResult up = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.output(), 0, up.exitCode);
        berthd_->writePluginSettings("migration_fixture", "table = items\nextra = 10\nextra_low = 5\n");
        RunResult refused = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.output(), 65, refused.exitCode);
        ASSERT_CONTAINS(refused.err, "migration migration_fixture 5 (extra 5) is pending but version 10");
        RunResult status = migrate({"status"});
        ASSERT_CONTAINS(status.out, "[out of order: 10 is applied]");
        RunResult anyway = migrate({"up", "--allow-out-of-order"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(anyway.output(), 0, anyway.exitCode);
        CPPUNIT_ASSERT(schema_->tableExists("items_x5"));
    }

    void testChangedDownIsNotRefused() {
        RunResult up = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.output(), 0, up.exitCode);
        berthd_->writePluginSettings("migration_fixture", "table = items\nedit_down = true\n");
        RunResult status = migrate({"status"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(status.output(), 0, status.exitCode);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), count(status.out, " applied "));
        RunResult down = migrate({"down", "--plugin", "migration_fixture", "--to", "0"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.output(), 0, down.exitCode);
        CPPUNIT_ASSERT(!schema_->tableExists("items"));
    }

    void testChangedMigrationIsRefused() {
        RunResult up = migrate({"up", "--plugin", "migration_fixture", "--to", "1"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.output(), 0, up.exitCode);
        berthd_->writePluginSettings("migration_fixture", "table = items\nedit_v1 = true\n");

        RunResult refused = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.output(), 65, refused.exitCode);
        ASSERT_CONTAINS(refused.err,
                        "migration migration_fixture 1 (create items) was applied with checksum");
        ASSERT_CONTAINS(refused.err, "an applied migration must not be edited");
        CPPUNIT_ASSERT_MESSAGE("migration 2 must not run after a refusal",
                               !schema_->columnExists("items", "note"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1"}) == schema_->recorded());

        RunResult status = migrate({"status"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(status.output(), 65, status.exitCode);  // a changed migration
        ASSERT_CONTAINS(status.out, " changed ");
        RunResult down = migrate({"down", "--plugin", "migration_fixture"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.output(), 65, down.exitCode);
        CPPUNIT_ASSERT(schema_->tableExists("items"));
    }

    void testFailingMigrationLeavesNothing() {
        berthd_->writePluginSettings("migration_fixture", "table = items\nwith_bad = true\n");
        RunResult up = migrate({"up"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(up.output(), 70, up.exitCode);
        ASSERT_CONTAINS(up.out, "applied migration_fixture 2");
        ASSERT_CONTAINS(up.err, "applying migration_fixture 3 (a migration that fails)");
        ASSERT_CONTAINS(up.err, "no_such_function");
        ASSERT_CONTAINS(up.err, "nothing of it was applied");
        CPPUNIT_ASSERT_MESSAGE("the failed migration's first statement must be rolled back",
                               !schema_->tableExists("items_bad"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_fixture:2"}) == schema_->recorded());
    }

    void testTwoProcessesMigrateOnce() {
        BerthdProcess second;
        schema_->configure(second);
        second.addFixture("migration_fixture");
        second.writePluginSettings("migration_fixture", "table = items\n");

        // The test holds the lock until both are waiting for it, so the lock is what keeps them apart.
        LockHolder holder;
        CPPUNIT_ASSERT(holder.tryLock());
        RunResult a, b;
        std::thread one([&] { a = migrate({"up"}); });
        std::thread other([&] { b = migrate({"up"}, &second); });
        auto deadline = Clock::now() + std::chrono::seconds(10);
        while (holder.waiters() < 2 && Clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        int waiting = holder.waiters();
        holder.unlock();
        one.join();
        other.join();
        CPPUNIT_ASSERT_EQUAL(2, waiting);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(a.output(), 0, a.exitCode);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(b.output(), 0, b.exitCode);
        std::string both = a.out + b.out;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(both, std::size_t(2), count(both, "waiting for the migration lock"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(both, std::size_t(1), count(both, "applied migration_fixture 1"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(both, std::size_t(1), count(both, "applied migration_fixture 2"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(both, std::size_t(1), count(both, "nothing to apply"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_fixture:2"}) == schema_->recorded());
    }

    void testLockReleasedAfterFailure() {
        berthd_->writePluginSettings("migration_fixture", "table = items\nwith_bad = true\n");
        berthd_->set("db.main.auto_migrate", "true");
        berthd_->start();  // the plugin is refused; berthd keeps serving
        CPPUNIT_ASSERT(berthd_->waitForLog("migrations failed"));
        LockHolder holder;
        CPPUNIT_ASSERT_MESSAGE("the lock must be free while berthd runs on", holder.tryLock());
        holder.unlock();
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

    void testAutoMigrateAtStart() {
        berthd_->set("db.main.auto_migrate", "true");
        berthd_->start();
        CPPUNIT_ASSERT(berthd_->waitForLog("plugin 'migration_fixture' 1.0.0 started"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_fixture:2"}) == schema_->recorded());
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());

        // A changed migration refuses the plugin at start; berthd serves the rest.
        berthd_->writePluginSettings("migration_fixture", "table = items\nedit_v1 = true\n");
        berthd_->start();
        CPPUNIT_ASSERT(berthd_->waitForLog("migrations failed"));
        ASSERT_CONTAINS(berthd_->log(), "an applied migration must not be edited");
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

  private:
    std::unique_ptr<TestSchema> schema_;
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MigrateTest);
