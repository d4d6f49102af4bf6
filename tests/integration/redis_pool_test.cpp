// The pool of Redis clients behind ctx.cache() (server/cache/redis_pool.*, redis_client.*) against
// the real local Redis: the connection's set-up (SELECT of redis.db; a wrong or missing password is
// a miss with a reason, never an exception), the I/O timeout on writes (a large pipeline to a hung
// Redis gives up, and the in_use gauge shows the client meanwhile), the breaker's wait (doubled per
// failed probe, not per call that failed at the same time), and the start-up probe, which is no cache
// call. Every test leaves Redis running.
#include <Poco/Logger.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Type.h>
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "berth/cache.h"
#include "cache/cache_registry.h"
#include "eventually.h"
#include "redis_env.h"
#include "stopwatch.h"

using berth::Cache;
using berth::server::CacheRegistry;
using berth::server::CacheSettings;
using berth::test::Clock;
using berth::test::eventually;
using berth::test::msSince;
using namespace std::chrono_literals;

namespace {

std::string fullKey(Cache& cache, const std::string& key) {
    return static_cast<berth::server::HostCache&>(cache).namespacePrefix() + key;
}

}  // namespace

class RedisPoolTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RedisPoolTest);
    CPPUNIT_TEST(testSelectsTheConfiguredDatabase);
    CPPUNIT_TEST(testWrongPasswordIsAMissWithAReason);
    CPPUNIT_TEST(testSendTimeoutBoundsAPipelineToAHungRedis);
    CPPUNIT_TEST(testConcurrentFailuresDoubleTheWaitOnce);
    CPPUNIT_TEST(testStartProbeIsNoSkippedCall);
    CPPUNIT_TEST_SUITE_END();

  private:
    std::string stoppedPid_;

    static Poco::Logger& logger() { return Poco::Logger::get("berth.cache"); }

    void stopRedis() {
        stoppedPid_ = berth::test::redisPid();
        CPPUNIT_ASSERT_EQUAL(0, std::system(("kill -STOP " + stoppedPid_).c_str()));
    }

    void continueRedis() {
        if (stoppedPid_.empty()) return;
        int status = std::system(("kill -CONT " + stoppedPid_).c_str());
        stoppedPid_.clear();
        CPPUNIT_ASSERT_EQUAL(0, status);
    }

  public:
    void tearDown() override {
        if (!stoppedPid_.empty()) std::system(("kill -CONT " + stoppedPid_).c_str());
        stoppedPid_.clear();
        berth::test::redisScript("start >/dev/null");
    }

    // redis.db other than 0: every client SELECTs it, so keys land there and not in the default one.
    void testSelectsTheConfiguredDatabase() {
        CacheSettings settings = berth::test::testCacheSettings();
        const int envDb = settings.db;
        settings.db = envDb == 1 ? 2 : 1;
        CacheRegistry registry(settings, logger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        std::string value = "in db " + std::to_string(settings.db);
        CPPUNIT_ASSERT(cache.set("k", value, 60s));
        CPPUNIT_ASSERT_EQUAL(value, cache.get("k").value_or("(miss)"));
        CPPUNIT_ASSERT_EQUAL("/" + std::to_string(settings.db),
                             registry.stats().endpoint.substr(registry.stats().endpoint.rfind('/')));

        std::unique_ptr<Poco::Redis::Client> raw = berth::test::rawRedis();  // SELECTs the env's db
        std::string key = fullKey(cache, "k");
        CPPUNIT_ASSERT_EQUAL(Poco::Int64(0),
                             raw->execute<Poco::Int64>(Poco::Redis::Array() << "EXISTS" << key));
        raw->execute<std::string>(Poco::Redis::Array() << "SELECT" << std::to_string(settings.db));
        Poco::Redis::BulkString stored =
            raw->execute<Poco::Redis::BulkString>(Poco::Redis::Array() << "GET" << key);
        raw->execute<Poco::Int64>(Poco::Redis::Array() << "DEL" << key);
        CPPUNIT_ASSERT_EQUAL(value, stored.isNull() ? std::string("(none)") : stored.value());
    }

    // AUTH refused (a wrong password), or no AUTH where Redis wants one: calls answer misses and
    // skipped writes, never throw, and /ready's ping says what Redis said.
    void testWrongPasswordIsAMissWithAReason() {
        CacheSettings settings = berth::test::testCacheSettings();
        settings.password = "not-the-password";
        CacheRegistry wrong(settings, logger());
        Cache& cache = wrong.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(!cache.get("k").has_value());
        CPPUNIT_ASSERT(!cache.set("k", "v"));
        CPPUNIT_ASSERT(!cache.available());
        berth::server::CacheStats stats = wrong.stats();
        CPPUNIT_ASSERT(stats.connectFailures >= 1);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), stats.failures);  // no command failed: none was sent
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), stats.skipped);
        std::string why = wrong.readinessParts(false).at(0).ping(500);
        CPPUNIT_ASSERT_MESSAGE(
            why, why.find("AUTH refused") != std::string::npos && why.find("WRONGPASS") != std::string::npos);

        settings.password.clear();
        CacheRegistry none(settings, logger());
        Cache& anonymous = none.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(!anonymous.get("k").has_value());
        CPPUNIT_ASSERT(!anonymous.set("k", "v"));
        CPPUNIT_ASSERT(none.stats().errors >= 2);  // Redis refused them: NOAUTH
        why = none.readinessParts(false).at(0).ping(500);
        CPPUNIT_ASSERT_MESSAGE(
            why, why.find("PING refused") != std::string::npos && why.find("NOAUTH") != std::string::npos);
    }

    // A pipeline larger than the socket buffers, to a Redis that accepts but does not read (SIGSTOP):
    // the write gives up after command_timeout_ms instead of blocking for as long as Redis hangs. While
    // it waits, the pool counts its client in use (berth_redis_connections{state="in_use"}).
    void testSendTimeoutBoundsAPipelineToAHungRedis() {
        CacheSettings settings = berth::test::testCacheSettings();
        settings.commandTimeoutMs = 1000;
        CacheRegistry registry(settings, logger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(cache.set("warm", "x"));  // a connected client waits in the pool
        CPPUNIT_ASSERT_EQUAL(0, registry.stats().inUse);
        berth::CachePipeline batch = cache.pipeline();
        std::string megabyte(1 << 20, 'x');
        for (int i = 0; i < 16; ++i) batch.set("big" + std::to_string(i), megabyte, 60s);  // 16 MB
        stopRedis();
        std::atomic<bool> done{false};
        std::vector<berth::CacheResult> results;
        auto start = Clock::now();
        std::thread caller([&] {
            results = batch.execute();
            done = true;
        });
        bool held = eventually([&] { return registry.stats().inUse == 1 || done; }, 3000ms) && !done;
        std::string metrics;
        registry.renderMetrics(metrics);
        bool finished = eventually([&] { return done.load(); }, 5000ms);
        long long ms = msSince(start);
        continueRedis();  // lets a call that still blocks end
        caller.join();
        std::unique_ptr<Poco::Redis::Client> raw = berth::test::rawRedis();
        for (int i = 0; i < 16; ++i)
            raw->execute<Poco::Int64>(Poco::Redis::Array()
                                      << "DEL" << fullKey(cache, "big" + std::to_string(i)));

        CPPUNIT_ASSERT_MESSAGE("the pipeline to a hung Redis did not give up within 5 s", finished);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(ms) + " ms", ms >= 900 && ms < 4000);
        CPPUNIT_ASSERT_MESSAGE("in_use stayed 0 while the pipeline waited", held);
        CPPUNIT_ASSERT_MESSAGE(
            metrics, metrics.find("berth_redis_connections{state=\"in_use\"} 1\n") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::size_t(16), results.size());
        for (const berth::CacheResult& r : results) CPPUNIT_ASSERT(!r.ok);
        CPPUNIT_ASSERT(registry.stats().failures >= 1);
        CPPUNIT_ASSERT_EQUAL(0, registry.stats().inUse);
        CPPUNIT_ASSERT(eventually([&] { return cache.get("warm") == std::optional<std::string>("x"); }));
    }

    // Four calls under way when Redis hangs all time out together: one outage, so the breaker waits
    // backoff_initial_ms, not twice that per further failure (4 × doubled: 3.2 s here). A probe that
    // fails then does double it.
    void testConcurrentFailuresDoubleTheWaitOnce() {
        CacheSettings settings = berth::test::testCacheSettings();
        settings.poolSize = 4;
        settings.commandTimeoutMs = 300;
        settings.backoffInitialMs = 400;
        settings.backoffMaxMs = 6400;
        CacheRegistry registry(settings, logger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(cache.set("k", "v"));
        stopRedis();
        std::atomic<bool> go{false};
        std::vector<std::thread> calls;
        for (int i = 0; i < 4; ++i)
            calls.emplace_back([&] {
                while (!go) std::this_thread::yield();
                cache.get("k");
            });
        go = true;
        for (std::thread& t : calls) t.join();
        auto failed = Clock::now();
        auto tries = [&] { return registry.stats().failures + registry.stats().connectFailures; };
        std::uint64_t before = tries();
        CPPUNIT_ASSERT_MESSAGE(std::to_string(before), before >= 2);  // calls that really were under way

        // Redis still hangs: the first probe comes after 400 ms and times out (300 ms); the next after
        // 800 ms more.
        auto probed = [&](std::uint64_t n) {
            return eventually(
                [&] {
                    cache.get("k");
                    return tries() >= n;
                },
                8000ms);
        };
        CPPUNIT_ASSERT(probed(before + 1));
        long long first = msSince(failed);
        auto firstFailed = Clock::now();
        CPPUNIT_ASSERT(probed(before + 2));
        long long second = msSince(firstFailed);
        continueRedis();
        CPPUNIT_ASSERT(eventually([&] { return cache.get("k") == std::optional<std::string>("v"); }, 8000ms));

        CPPUNIT_ASSERT_MESSAGE(std::to_string(first) + " ms to the first probe's failure", first < 1600);
        CPPUNIT_ASSERT_MESSAGE(
            std::to_string(second) + " ms from the first failed probe to the next's failure", second >= 1050);
    }

    // The probe at start (a PING) while Redis is down: logged, and Redis counts as down, but it is no
    // plugin's cache call, so berth_redis_skipped_total stays 0.
    void testStartProbeIsNoSkippedCall() {
        CacheSettings settings = berth::test::testCacheSettings();  // while Redis still answers
        berth::test::redisScript("stop >/dev/null");
        CacheRegistry registry(settings, logger());
        registry.probe();
        CPPUNIT_ASSERT(!registry.stats().up);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), registry.stats().skipped);
        CPPUNIT_ASSERT(registry.stats().connectFailures >= 1);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RedisPoolTest);
