// The bench plugin's GET /bench/cached-queries (TechEmpower cached-queries, bench/run's cache part)
// through berthd as a process, on a world table of the test's own schema and the real Redis:
// a cold call answers the table's rows and caches them under bench:world:<id> with the TTL, a warm
// call is answered from Redis alone, ?count= follows TechEmpower's rule, Redis being unreachable
// only means the rows come from the table, and bad settings refuse the plugin.
//
// The keys bench:world:<id> are the bench plugin's namespace, the same in every run: the test
// deletes them before and after (rows that bench/run cached came from another world table).
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/Redis/Array.h>
#include <Poco/Types.h>
#include <cppunit/extensions/HelperMacros.h>

#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "berthd_process.h"
#include "http_probe.h"
#include "redis_env.h"
#include "test_schema.h"

using berth::test::BerthdProcess;
using berth::test::HttpProbe;
using berth::test::HttpResult;
using berth::test::TestSchema;

namespace {

constexpr int kRows = 10000;  // the bench plugin's migration seeds ids 1..10000
constexpr int kTtl = 120;

std::string worldKey(std::int64_t id) {
    return "bench:world:" + std::to_string(id);
}

void deleteWorldKeys() {
    Poco::Redis::Array del;
    del << "DEL";
    for (int id = 1; id <= kRows; ++id) del << worldKey(id);
    berth::test::rawRedis()->execute<Poco::Int64>(del);
}

// The rows of a reply's data, by position: (id, randomNumber).
std::vector<std::pair<std::int64_t, std::int64_t>> rowsOf(const HttpResult& reply) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(reply.describe(), 200, reply.status);
    Poco::JSON::Array::Ptr data = reply.json()->getArray("data");
    CPPUNIT_ASSERT_MESSAGE(reply.describe(), !data.isNull());
    std::vector<std::pair<std::int64_t, std::int64_t>> rows;
    for (std::size_t i = 0; i < data->size(); ++i) {
        Poco::JSON::Object::Ptr row = data->getObject(static_cast<unsigned>(i));
        CPPUNIT_ASSERT_MESSAGE(reply.describe(), !row.isNull() && row->size() == 2);
        rows.emplace_back(row->getValue<std::int64_t>("id"), row->getValue<std::int64_t>("randomNumber"));
    }
    return rows;
}

}  // namespace

class BenchCachedQueriesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BenchCachedQueriesTest);
    CPPUNIT_TEST(testColdCallAnswersTheTableAndCachesIt);
    CPPUNIT_TEST(testWarmCallIsAnsweredFromRedis);
    CPPUNIT_TEST(testCountFollowsTechEmpowersRule);
    CPPUNIT_TEST(testUnreachableRedisMeansRowsFromTheTable);
    CPPUNIT_TEST(testBadSettingsRefuseThePlugin);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        deleteWorldKeys();
        schema_ = std::make_unique<TestSchema>("bench");
        berthd_ = std::make_unique<BerthdProcess>();
        schema_->configure(*berthd_);
        berthd_->set("db.main.auto_migrate", "true");
        Poco::File(BERTH_BENCH_PLUGIN).copyTo(berthd_->path("plugins/bench.so"));
        berth::test::RedisEnv env = berth::test::redisEnv();
        berthd_->set("redis.host", env.host);
        berthd_->set("redis.port", std::to_string(env.port));
        berthd_->set("redis.password", "${system.env.BERTH_REDIS_PASSWORD}");
        berthd_->set("redis.db", std::to_string(env.db));
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
        schema_.reset();
        deleteWorldKeys();
    }

    void start(const std::string& pluginSettings = "database = main\ncache = true\ncache_ttl_s = " +
                                                   std::to_string(kTtl) + "\n") {
        berthd_->writePluginSettings("bench", pluginSettings);
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port(), 10000);
    }

    std::map<std::int64_t, std::int64_t> table() {
        std::map<std::int64_t, std::int64_t> rows;
        for (berth::DbRow row : schema_->query("SELECT id, randomnumber FROM world"))
            rows[row["id"].asInt()] = row["randomnumber"].asInt();
        return rows;
    }

    void testColdCallAnswersTheTableAndCachesIt() {
        start();
        std::map<std::int64_t, std::int64_t> world = table();
        CPPUNIT_ASSERT_EQUAL(std::size_t(kRows), world.size());
        HttpResult reply = http_->get("/bench/cached-queries?count=20");
        auto rows = rowsOf(reply);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(reply.describe(), std::size_t(20), rows.size());
        CPPUNIT_ASSERT_EQUAL(std::string("application/json"), reply.header("Content-Type").substr(0, 16));
        auto redis = berth::test::rawRedis();
        for (const auto& [id, number] : rows) {
            CPPUNIT_ASSERT_MESSAGE(reply.describe(), id >= 1 && id <= kRows);
            CPPUNIT_ASSERT_EQUAL_MESSAGE("row " + std::to_string(id), world.at(id), number);
            std::optional<std::string> cached = berth::test::rawGet(worldKey(id));
            CPPUNIT_ASSERT_MESSAGE(worldKey(id) + " is not in Redis", cached.has_value());
            CPPUNIT_ASSERT_EQUAL(
                "{\"id\":" + std::to_string(id) + ",\"randomNumber\":" + std::to_string(number) + "}",
                *cached);
            Poco::Int64 ttl = redis->execute<Poco::Int64>(Poco::Redis::Array() << "TTL" << worldKey(id));
            CPPUNIT_ASSERT_MESSAGE(std::to_string(ttl), ttl > kTtl - 30 && ttl <= kTtl);
        }
    }

    // Every key holds a value the table cannot have (its numbers are 1..10000): a reply made of
    // those came from Redis alone.
    void testWarmCallIsAnsweredFromRedis() {
        start();
        Poco::Redis::Array mset;
        mset << "MSET";
        for (int id = 1; id <= kRows; ++id)
            mset << worldKey(id)
                 << "{\"id\":" + std::to_string(id) + ",\"randomNumber\":-" + std::to_string(id) + "}";
        berth::test::rawRedis()->execute<std::string>(mset);
        for (const char* count : {"20", "500"}) {
            HttpResult reply = http_->get(std::string("/bench/cached-queries?count=") + count);
            auto rows = rowsOf(reply);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(reply.describe(), std::size_t(std::stoi(count)), rows.size());
            for (const auto& [id, number] : rows) CPPUNIT_ASSERT_EQUAL_MESSAGE(reply.describe(), -id, number);
        }
        // A cached value that is not a world row is a miss: that row comes from the table again.
        std::map<std::int64_t, std::int64_t> world = table();
        Poco::Redis::Array garbage;
        garbage << "MSET";
        for (int id = 1; id <= kRows; ++id) garbage << worldKey(id) << "not json";
        berth::test::rawRedis()->execute<std::string>(garbage);
        for (const auto& [id, number] : rowsOf(http_->get("/bench/cached-queries?count=20")))
            CPPUNIT_ASSERT_EQUAL(world.at(id), number);
    }

    void testCountFollowsTechEmpowersRule() {
        start();
        const std::pair<const char*, std::size_t> cases[] = {
            {"", 1},
            {"?count=", 1},
            {"?count=abc", 1},
            {"?count=0", 1},
            {"?count=-5", 1},
            {"?count=7", 7},
            {"?count=500", 500},
            {"?count=501", 500},
            {"?count=99999999999999999999", 500},
            {"?count=3x", 1},
            {"?queries=9", 1},
        };
        for (const auto& [query, expected] : cases) {
            HttpResult reply = http_->get(std::string("/bench/cached-queries") + query);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(query) + ": " + reply.describe(), expected,
                                         rowsOf(reply).size());
        }
    }

    void testUnreachableRedisMeansRowsFromTheTable() {
        berthd_->set("redis.port", std::to_string(berth::test::pickFreePort()));  // nothing listens
        berthd_->set("redis.connect_timeout_ms", "200");
        start();
        std::map<std::int64_t, std::int64_t> world = table();
        for (int call = 0; call < 3; ++call) {
            HttpResult reply = http_->get("/bench/cached-queries?count=20");
            auto rows = rowsOf(reply);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(reply.describe(), std::size_t(20), rows.size());
            for (const auto& [id, number] : rows) CPPUNIT_ASSERT_EQUAL(world.at(id), number);
        }
    }

    void testBadSettingsRefuseThePlugin() {
        for (const auto& [settings, message] : std::initializer_list<std::pair<std::string, std::string>>{
                 {"database = main\ncache = true\ncache_ttl_s = 0\n",
                  "cache_ttl_s must be 1-86400 (seconds), not 0"},
                 {"cache = true\n", "cache = true needs database = <name>"},
             }) {
            berthd_ = std::make_unique<BerthdProcess>();
            schema_->configure(*berthd_);
            Poco::File(BERTH_BENCH_PLUGIN).copyTo(berthd_->path("plugins/bench.so"));
            start(settings);
            CPPUNIT_ASSERT_MESSAGE(berthd_->log(), berthd_->waitForLog(message));
            CPPUNIT_ASSERT_EQUAL(404, http_->get("/bench/cached-queries?count=2").status);
            CPPUNIT_ASSERT_EQUAL(404, http_->get("/bench/json").status);
        }
    }

  private:
    std::unique_ptr<TestSchema> schema_;
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(BenchCachedQueriesTest);
