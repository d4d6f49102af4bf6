// Redis going away while berthd runs is a slower request, never a failed one: calls miss and skip
// (quickly: the breaker does not pay a connect per call), and caching resumes by itself once Redis
// is back — in process, across a restart with idle clients in the pool, and over HTTP with berthd
// as a process and a plugin that uses ctx.cache(). Every test leaves Redis running.
#include <Poco/Logger.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "berth/cache.h"
#include "berthd_process.h"
#include "cache/cache_registry.h"
#include "eventually.h"
#include "http_probe.h"
#include "redis_env.h"

using berth::Cache;
using berth::server::CacheRegistry;
using berth::test::eventually;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

class CacheResilienceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CacheResilienceTest);
    CPPUNIT_TEST(testRestartWithIdleClients);
    CPPUNIT_TEST(testOutageMissesThenResumes);
    CPPUNIT_TEST(testHungRedisTimesOut);
    CPPUNIT_TEST(testReadinessPingIsNoSkippedCall);
    CPPUNIT_TEST(testBerthdOutageOverHttp);
    CPPUNIT_TEST_SUITE_END();

  private:
    std::string stoppedPid_;

  public:
    void tearDown() override {
        if (!stoppedPid_.empty()) std::system(("kill -CONT " + stoppedPid_).c_str());
        stoppedPid_.clear();
        berth::test::redisScript("start >/dev/null");
    }

    // A Redis that accepts but does not answer (SIGSTOP): the call gives up after
    // command_timeout_ms, the client is dropped (Poco's is unusable after a timeout), the next
    // calls skip at once, and once Redis answers again caching resumes.
    void testHungRedisTimesOut() {
        berth::server::CacheSettings settings = berth::test::testCacheSettings();
        settings.commandTimeoutMs = 300;
        CacheRegistry registry(settings, Poco::Logger::get("berth.cache"));
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(cache.set("k", "v"));
        stoppedPid_ = berth::test::redisPid();
        CPPUNIT_ASSERT_EQUAL(0, std::system(("kill -STOP " + stoppedPid_).c_str()));
        auto start = Clock::now();
        CPPUNIT_ASSERT(!cache.get("k").has_value());
        long long first = msSince(start);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(first) + " ms", first >= 250 && first < 1500);
        start = Clock::now();
        for (int i = 0; i < 50; ++i) CPPUNIT_ASSERT(!cache.set("k", "x"));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) < 1500);
        CPPUNIT_ASSERT(registry.stats().failures >= 1);
        CPPUNIT_ASSERT_EQUAL(0, std::system(("kill -CONT " + stoppedPid_).c_str()));
        stoppedPid_.clear();
        CPPUNIT_ASSERT(eventually([&cache] { return cache.get("k") == std::optional<std::string>("v"); }));
        CPPUNIT_ASSERT_EQUAL(0, registry.stats().inUse);
    }

    // /ready's PING while Redis is down says why without counting skipped cache calls (those are the
    // plugins' calls: berth_redis_skipped_total and the "calls skipped" warning), and once Redis is back
    // pings alone find it (each one due as the breaker's probe tries).
    void testReadinessPingIsNoSkippedCall() {
        CacheRegistry registry(berth::test::testCacheSettings(), Poco::Logger::get("berth.cache"));
        std::vector<berth::server::ReadinessCheck::Part> parts = registry.readinessParts(false);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), parts.size());
        auto ping = [&parts] { return parts[0].ping(500); };
        CPPUNIT_ASSERT_EQUAL(std::string(), ping());
        berth::test::redisScript("stop >/dev/null");
        std::string why = ping();
        CPPUNIT_ASSERT_MESSAGE(why, why.find("unavailable") != std::string::npos);
        for (int i = 0; i < 50; ++i) CPPUNIT_ASSERT(!ping().empty());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), registry.stats().skipped);
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(!cache.get("k").has_value());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), registry.stats().skipped);  // a plugin's call does count

        berth::test::redisScript("start >/dev/null");
        CPPUNIT_ASSERT(eventually([&ping] { return ping().empty(); }));
        CPPUNIT_ASSERT(cache.available());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), registry.stats().skipped);
    }

    // Idle pooled clients die with the server; the next calls must not see that.
    void testRestartWithIdleClients() {
        CacheRegistry registry(berth::test::testCacheSettings(), Poco::Logger::get("berth.cache"));
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        std::vector<std::thread> threads;  // several clients idle in the pool afterwards
        for (int t = 0; t < 3; ++t) threads.emplace_back([&cache] { cache.set("k", "v"); });
        for (std::thread& t : threads) t.join();
        CPPUNIT_ASSERT(registry.stats().open >= 1);
        berth::test::redisScript("restart >/dev/null");
        // The restart emptied Redis (nothing is saved); the first calls reconnect transparently.
        CPPUNIT_ASSERT(!cache.get("k").has_value());
        CPPUNIT_ASSERT(cache.set("k", "after"));
        CPPUNIT_ASSERT_EQUAL(std::string("after"), cache.get("k").value());
        CPPUNIT_ASSERT(cache.available());
        CPPUNIT_ASSERT(registry.stats().failures >= 1);  // a dead idle client was met, and replaced
        // INCR is not retried (it may have run): at most one miss, then it works.
        std::optional<std::int64_t> n = cache.incr("n");
        if (!n) n = cache.incr("n");
        CPPUNIT_ASSERT(n.has_value());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), registry.stats().connectFailures);
    }

    void testOutageMissesThenResumes() {
        CacheRegistry registry(berth::test::testCacheSettings(), Poco::Logger::get("berth.cache"));
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(cache.set("k", "v"));
        berth::test::redisScript("stop >/dev/null");
        auto start = Clock::now();
        for (int i = 0; i < 200; ++i) {
            CPPUNIT_ASSERT(!cache.get("k").has_value());
            CPPUNIT_ASSERT(!cache.set("k", "v2"));
            CPPUNIT_ASSERT(!cache.incr("n").has_value());
            CPPUNIT_ASSERT(cache.hgetall("h").empty());
            std::vector<berth::CacheResult> r = cache.pipeline().get("k").set("x", "y").execute();
            CPPUNIT_ASSERT(!r[0].ok && !r[1].ok);
        }
        // 1000 calls while down: the breaker answers them at once (connection refused is fast too,
        // but not once per call).
        CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) < 3000);
        CPPUNIT_ASSERT(!cache.available());
        berth::server::CacheStats down = registry.stats();
        CPPUNIT_ASSERT(!down.up);
        CPPUNIT_ASSERT(down.skipped >= 990);
        CPPUNIT_ASSERT(down.connectFailures + down.failures >= 1);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(down.connectFailures), down.connectFailures < 20);
        std::string metrics;
        registry.renderMetrics(metrics);
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("berth_redis_up 0\n") != std::string::npos);

        berth::test::redisScript("start >/dev/null");
        CPPUNIT_ASSERT(eventually([&cache] { return cache.set("k", "back"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("back"), cache.get("k").value());
        CPPUNIT_ASSERT(cache.available());
        CPPUNIT_ASSERT(registry.stats().up);
        CPPUNIT_ASSERT_EQUAL(0, registry.stats().inUse);
    }

    void testBerthdOutageOverHttp() {
        berth::test::RedisEnv env = berth::test::redisEnv();
        berth::test::BerthdProcess berthd;
        berthd.addFixture("cache_probe");
        berthd.set("redis.host", env.host);
        berthd.set("redis.port", std::to_string(env.port));
        berthd.set("redis.password", "${system.env.BERTH_REDIS_PASSWORD}");
        berthd.set("redis.db", std::to_string(env.db));
        berthd.set("redis.connect_timeout_ms", "300");
        berthd.set("redis.command_timeout_ms", "500");
        berthd.start();
        berth::test::HttpProbe http(berthd.port(), 10000);
        std::string key = berth::test::uniquePlugin();

        berth::test::HttpResult stored = http.get("/cache_probe/set/" + key + "/hello");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(stored.describe() + berthd.log(), 200, stored.status);
        CPPUNIT_ASSERT_MESSAGE(stored.body, stored.body.find(R"("stored":true)") != std::string::npos);
        berth::test::HttpResult hit = http.get("/cache_probe/get/" + key);
        CPPUNIT_ASSERT_MESSAGE(hit.body, hit.body.find(R"("hit":true,"value":"hello")") != std::string::npos);
        berth::test::HttpResult count = http.get("/cache_probe/count/" + key + "-n");
        CPPUNIT_ASSERT_MESSAGE(count.body, count.body.find(R"("ok":true,"n":1)") != std::string::npos);
        // Namespaced by the plugin's name.
        CPPUNIT_ASSERT(berth::test::rawRedis()->execute<Poco::Int64>(Poco::Redis::Array()
                                                                     << "EXISTS"
                                                                     << "cache_probe:" + key) == 1);

        berth::test::redisScript("stop >/dev/null");
        for (int i = 0; i < 20; ++i) {
            for (const std::string& path : {"/cache_probe/get/" + key, "/cache_probe/set/" + key + "/x",
                                            "/cache_probe/count/" + key + "-n"}) {
                auto start = Clock::now();
                berth::test::HttpResult r = http.get(path);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe() + berthd.log(), 200, r.status);
                CPPUNIT_ASSERT_MESSAGE(r.body, r.body.find(R"("hit":false)") != std::string::npos ||
                                                   r.body.find(R"("stored":false)") != std::string::npos ||
                                                   r.body.find(R"("ok":false)") != std::string::npos);
                CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) < 1500);
            }
        }
        CPPUNIT_ASSERT_MESSAGE(berthd.log(), berthd.waitForLog("unavailable", 3000));
        berth::test::HttpResult metrics = http.get("/metrics");
        CPPUNIT_ASSERT_MESSAGE(metrics.body, metrics.body.find("berth_redis_up 0\n") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(metrics.body,
                               metrics.body.find("berth_redis_skipped_total 0\n") == std::string::npos);

        berth::test::redisScript("start >/dev/null");
        CPPUNIT_ASSERT(eventually([&] {
            return http.get("/cache_probe/set/" + key + "/again").body.find(R"("stored":true)") !=
                   std::string::npos;
        }));
        hit = http.get("/cache_probe/get/" + key);
        CPPUNIT_ASSERT_MESSAGE(hit.body, hit.body.find(R"("hit":true,"value":"again")") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(berthd.log(), berthd.waitForLog("answers again", 3000));
        CPPUNIT_ASSERT_EQUAL(0, berthd.stop());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CacheResilienceTest);
