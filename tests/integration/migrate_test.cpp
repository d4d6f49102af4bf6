// `berthd migrate status|up|down` against the real PostgreSQL, each test in a schema of its own:
// up/down/status with --to and --plugin, a changed migration refused, a failing migration that
// leaves nothing behind, and two berthd migrating at once (the advisory lock).
#include <cppunit/extensions/HelperMacros.h>

#include <thread>

#include "berthd_process.h"
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

}  // namespace

class MigrateTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(MigrateTest);
    CPPUNIT_TEST(testStatusUpDown);
    CPPUNIT_TEST(testToAndPlugin);
    CPPUNIT_TEST(testChangedMigrationIsRefused);
    CPPUNIT_TEST(testFailingMigrationLeavesNothing);
    CPPUNIT_TEST(testTwoProcessesMigrateOnce);
    CPPUNIT_TEST(testAutoMigrateAtStart);
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
        ASSERT_CONTAINS(status.out, "database 'main':");
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

        RunResult down = migrate({"down"});  // the last one only
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.output(), 0, down.exitCode);
        ASSERT_CONTAINS(down.out, "rolled back migration_fixture 2");
        ASSERT_NOT_CONTAINS(down.out, "rolled back migration_fixture 1");
        CPPUNIT_ASSERT(schema_->tableExists("items"));
        CPPUNIT_ASSERT(!schema_->columnExists("items", "note"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1"}) == schema_->recorded());

        RunResult all = migrate({"down", "--to", "0"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all.output(), 0, all.exitCode);
        CPPUNIT_ASSERT(!schema_->tableExists("items"));
        CPPUNIT_ASSERT(schema_->recorded().empty());
        RunResult none = migrate({"down"});
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
        RunResult badTo = migrate({"up", "--to", "x"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(badTo.output(), 64, badTo.exitCode);
    }

    void testChangedMigrationIsRefused() {
        RunResult up = migrate({"up", "--to", "1"});
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
        CPPUNIT_ASSERT_EQUAL_MESSAGE(status.output(), 0, status.exitCode);
        ASSERT_CONTAINS(status.out, " changed ");
        RunResult down = migrate({"down"});
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
        berthd_->writePluginSettings("migration_fixture", "table = items\nsleep_s = 1\n");
        BerthdProcess second;
        schema_->configure(second);
        second.addFixture("migration_fixture");
        second.writePluginSettings("migration_fixture", "table = items\nsleep_s = 1\n");

        RunResult a, b;
        std::thread other([&] { b = migrate({"up"}, &second); });
        a = migrate({"up"});
        other.join();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(a.output(), 0, a.exitCode);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(b.output(), 0, b.exitCode);
        std::string both = a.out + b.out;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(both, std::size_t(1), count(both, "applied migration_fixture 1"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(both, std::size_t(1), count(both, "applied migration_fixture 2"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(both, std::size_t(1), count(both, "nothing to apply"));
        CPPUNIT_ASSERT(Rows({"migration_fixture:1", "migration_fixture:2"}) == schema_->recorded());
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
