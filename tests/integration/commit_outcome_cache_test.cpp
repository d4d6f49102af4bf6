// The visits plugin's cache when a write's COMMIT throws, through berthd as a process with the real
// PostgreSQL and Redis. The connection is lost during COMMIT (a deferred trigger terminates its own
// backend at commit time: berthd sees 57P01 and answers DbError 08007, "the outcome is unknown").
// Had the commit gone through, the cached row would be the old one, served until cache_ttl_s ends;
// so PUT and DELETE invalidate the entry also when their COMMIT throws, before the 500.
#include <Poco/File.h>
#include <cppunit/extensions/HelperMacros.h>

#include "berthd_process.h"
#include "http_probe.h"
#include "redis_env.h"
#include "test_schema.h"

using berth::test::BerthdProcess;
using berth::test::HttpProbe;
using berth::test::HttpResult;
using berth::test::rawGet;
using berth::test::TestSchema;

class CommitOutcomeCacheTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CommitOutcomeCacheTest);
    CPPUNIT_TEST(testLostCommitInvalidates);
    CPPUNIT_TEST_SUITE_END();

  public:
    void tearDown() override {
        http_.reset();
        berthd_.reset();
        schema_.reset();
    }

    void testLostCommitInvalidates() {
        startBerthd();
        // At COMMIT, a PUT that sets this title, or a DELETE of a task with it, loses its connection.
        schema_->query(R"(CREATE FUNCTION lose_connection() RETURNS trigger LANGUAGE plpgsql AS $$
                          BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$)");
        schema_->query(
            "CREATE CONSTRAINT TRIGGER lose_update AFTER UPDATE ON visit_tasks DEFERRABLE INITIALLY "
            "DEFERRED FOR EACH ROW WHEN (NEW.title = 'lost') EXECUTE FUNCTION lose_connection()");
        schema_->query(
            "CREATE CONSTRAINT TRIGGER lose_delete AFTER DELETE ON visit_tasks DEFERRABLE INITIALLY "
            "DEFERRED FOR EACH ROW WHEN (OLD.title = 'lost') EXECUTE FUNCTION lose_connection()");

        std::int64_t put = create("before");
        std::int64_t removed = create("lost");
        for (std::int64_t id : {put, removed}) {
            CPPUNIT_ASSERT_EQUAL(200, http_->get(path(id)).status);
            CPPUNIT_ASSERT_MESSAGE("GET caches the task", rawGet(cacheKey(id)).has_value());
        }

        HttpResult r = http_->json("PUT", path(put), R"({"title":"lost","hospital_id":7})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 500, r.status);
        CPPUNIT_ASSERT_MESSAGE(berthd_->log(), berthd_->waitForLog("the outcome is unknown", 3000));
        CPPUNIT_ASSERT_MESSAGE("PUT whose COMMIT threw kept the entry", !rawGet(cacheKey(put)).has_value());

        r = http_->json("DELETE", path(removed));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 500, r.status);
        CPPUNIT_ASSERT_MESSAGE("DELETE whose COMMIT threw kept the entry",
                               !rawGet(cacheKey(removed)).has_value());

        // Here the backend died before committing: GET reads what the database really holds.
        CPPUNIT_ASSERT_EQUAL(std::string("before"), titleOf(http_->get(path(put))));
        CPPUNIT_ASSERT_EQUAL(std::string("lost"), titleOf(http_->get(path(removed))));
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

  private:
    void startBerthd() {
        berth::test::RedisEnv env = berth::test::redisEnv();
        berth::test::rawDelete("visits:visit_task:*");  // ids start at 1 in every schema
        schema_ = std::make_unique<TestSchema>("commit_outcome");
        berthd_ = std::make_unique<BerthdProcess>();
        schema_->configure(*berthd_);
        berthd_->set("db.main.auto_migrate", "true");
        berthd_->set("redis.host", env.host);
        berthd_->set("redis.port", std::to_string(env.port));
        berthd_->set("redis.password", "${system.env.BERTH_REDIS_PASSWORD}");
        berthd_->set("redis.db", std::to_string(env.db));
        Poco::File(std::string(BERTH_PLUGIN_DIR) + "/visits.so").copyTo(berthd_->path("plugins/visits.so"));
        berthd_->writePluginSettings("visits", "prefix = /visits\ndatabase = main\ncache_ttl_s = 60\n");
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port(), 10000);
    }

    std::int64_t create(const std::string& title) {
        HttpResult r =
            http_->json("POST", "/visits/visit_tasks", R"({"title":")" + title + R"(","hospital_id":7})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe() + berthd_->log(), 201, r.status);
        return r.json()->getObject("data")->getValue<std::int64_t>("id");
    }

    static std::string path(std::int64_t id) { return "/visits/visit_tasks/" + std::to_string(id); }
    static std::string cacheKey(std::int64_t id) { return "visits:visit_task:" + std::to_string(id); }

    static std::string titleOf(const HttpResult& r) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        return r.json()->getObject("data")->getValue<std::string>("title");
    }

    std::unique_ptr<TestSchema> schema_;
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CommitOutcomeCacheTest);
