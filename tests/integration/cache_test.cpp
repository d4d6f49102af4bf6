// ctx.cache() against the real local Redis (scripts/redis): every call of berth/cache.h,
// namespacing between two plugins, TTL expiry, the pipeline, MGET (namespaced key by key; Redis down),
// refused commands, invalid keys, and a cache without Redis.
#include <Poco/Logger.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Type.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "berth/cache.h"
#include "cache/cache_registry.h"
#include "eventually.h"
#include "redis_counters.h"
#include "redis_env.h"

using berth::Cache;
using berth::CacheResult;
using berth::server::CacheRegistry;
using berth::test::rawGet;
using berth::test::RedisCounters;
using namespace std::chrono_literals;

namespace {

Poco::Logger& cacheLogger() {
    return Poco::Logger::get("berth.cache");
}

}  // namespace

class CacheTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CacheTest);
    CPPUNIT_TEST(testGetSetDelExists);
    CPPUNIT_TEST(testIncrAndExpire);
    CPPUNIT_TEST(testHashes);
    CPPUNIT_TEST(testNamespacing);
    CPPUNIT_TEST(testTtlExpiry);
    CPPUNIT_TEST(testPipeline);
    CPPUNIT_TEST(testMget);
    CPPUNIT_TEST(testRefusedCommandIsAMissNotAnError);
    CPPUNIT_TEST(testInvalidKeysThrow);
    CPPUNIT_TEST(testNotConfigured);
    CPPUNIT_TEST(testConcurrentUse);
    CPPUNIT_TEST_SUITE_END();

  public:
    void tearDown() override { berth::test::redisScript("start >/dev/null"); }  // testMget stops it

    void testGetSetDelExists() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(cache.available());
        CPPUNIT_ASSERT(!cache.get("k").has_value());
        CPPUNIT_ASSERT(!cache.exists("k"));
        CPPUNIT_ASSERT(cache.set("k", "v1"));
        CPPUNIT_ASSERT_EQUAL(std::string("v1"), cache.get("k").value());
        CPPUNIT_ASSERT(cache.exists("k"));
        std::string binary("a\0b\r\n", 5);  // values are binary-safe
        CPPUNIT_ASSERT(cache.set("k", binary));
        CPPUNIT_ASSERT(cache.get("k").value() == binary);
        CPPUNIT_ASSERT(cache.set("empty", ""));
        CPPUNIT_ASSERT_EQUAL(std::string(), cache.get("empty").value());  // a hit, not a miss
        CPPUNIT_ASSERT(cache.del("k"));
        CPPUNIT_ASSERT(cache.del("k"));  // ran: the key is gone either way
        CPPUNIT_ASSERT(!cache.get("k").has_value());
        CPPUNIT_ASSERT(!cache.exists("k"));
        CPPUNIT_ASSERT(registry.stats().connects >= 1);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), registry.stats().skipped);
    }

    void testIncrAndExpire() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), cache.incr("n").value());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(6), cache.incr("n", 5).value());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4), cache.incr("n", -2).value());
        CPPUNIT_ASSERT(!cache.expire("missing", 10s));
        CPPUNIT_ASSERT(cache.expire("n", 100s));
        auto client = berth::test::rawRedis();
        Poco::Redis::Array ttl;
        ttl << "TTL" << static_cast<berth::server::HostCache&>(cache).namespacePrefix() + "n";
        Poco::Int64 seconds = client->execute<Poco::Int64>(ttl);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(seconds), seconds > 90 && seconds <= 100);
    }

    void testHashes() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(cache.hgetall("h").empty());
        CPPUNIT_ASSERT(!cache.hget("h", "a").has_value());
        CPPUNIT_ASSERT(cache.hset("h", "a", "1"));
        CPPUNIT_ASSERT(cache.hset("h", "b", "2"));
        CPPUNIT_ASSERT(cache.hset("h", "a", "3"));  // an update is a success too
        CPPUNIT_ASSERT_EQUAL(std::string("3"), cache.hget("h", "a").value());
        std::map<std::string, std::string> all = cache.hgetall("h");
        CPPUNIT_ASSERT(all == (std::map<std::string, std::string>{{"a", "3"}, {"b", "2"}}));
        CPPUNIT_ASSERT(cache.hdel("h", "a"));
        CPPUNIT_ASSERT(!cache.hget("h", "a").has_value());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), cache.hgetall("h").size());
        CPPUNIT_ASSERT(cache.exists("h"));
    }

    // Two plugins using the same key see two values; Redis holds them as "<plugin>:<key>".
    void testNamespacing() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        std::string a = berth::test::uniquePlugin() + "a", b = berth::test::uniquePlugin() + "b";
        Cache& cacheA = registry.forPlugin(a);
        Cache& cacheB = registry.forPlugin(b);
        CPPUNIT_ASSERT(&cacheA == &registry.forPlugin(a));
        CPPUNIT_ASSERT(cacheA.set("shared", "from a"));
        CPPUNIT_ASSERT(!cacheB.get("shared").has_value());
        CPPUNIT_ASSERT(!cacheB.exists("shared"));
        CPPUNIT_ASSERT(cacheB.set("shared", "from b"));
        CPPUNIT_ASSERT_EQUAL(std::string("from a"), cacheA.get("shared").value());
        CPPUNIT_ASSERT_EQUAL(std::string("from b"), cacheB.get("shared").value());
        CPPUNIT_ASSERT_EQUAL(std::string("from a"), rawGet(a + ":shared").value());
        CPPUNIT_ASSERT_EQUAL(std::string("from b"), rawGet(b + ":shared").value());
        CPPUNIT_ASSERT(!rawGet("shared").has_value());
        // b deleting, hashing or counting under the name touches only its own key.
        CPPUNIT_ASSERT(cacheB.del("shared"));
        CPPUNIT_ASSERT_EQUAL(std::string("from a"), cacheA.get("shared").value());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), cacheB.incr("counter").value());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), cacheA.incr("counter").value());
        // A key that looks like another plugin's is still inside the caller's namespace.
        CPPUNIT_ASSERT(!cacheB.get(":" + a + ":shared").has_value());
        CPPUNIT_ASSERT(!cacheB.get("../" + a + ":shared").has_value());
    }

    // The TTLs are read back from Redis (PTTL) at once, so a missing one fails without waiting; the
    // expiry is then polled for, not slept for, and 3 s leave a busy machine time for the first get.
    void testTtlExpiry() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        const std::string plugin = berth::test::uniquePlugin();
        Cache& cache = registry.forPlugin(plugin);
        auto client = berth::test::rawRedis();
        auto pttl = [&](const std::string& key) {
            return client->execute<Poco::Int64>(Poco::Redis::Array() << "PTTL" << plugin + ":" + key);
        };
        CPPUNIT_ASSERT(cache.set("short", "x", 3s));
        CPPUNIT_ASSERT(cache.set("long", "y"));
        CPPUNIT_ASSERT_EQUAL(Poco::Int64(-1), pttl("long"));  // set without a TTL: no expiry
        CPPUNIT_ASSERT(cache.expire("long", 3s));
        CPPUNIT_ASSERT(cache.hset("hash", "f", "v"));
        CPPUNIT_ASSERT(cache.expire("hash", 3s));
        CPPUNIT_ASSERT(cache.get("short").has_value());
        for (const std::string key : {"short", "long", "hash"}) {
            Poco::Int64 ms = pttl(key);
            CPPUNIT_ASSERT_MESSAGE(key + ": PTTL " + std::to_string(ms), ms > 0 && ms <= 3000);
        }
        auto allExpired = [&] {
            return !cache.get("short").has_value() && !cache.get("long").has_value() &&
                   cache.hgetall("hash").empty();
        };
        CPPUNIT_ASSERT_MESSAGE("the keys outlived their 3 s TTL by 10 s",
                               berth::test::eventually(allExpired, 13s));
        CPPUNIT_ASSERT(!cache.get("short").has_value());
        CPPUNIT_ASSERT(!cache.get("long").has_value());
        CPPUNIT_ASSERT(cache.hgetall("hash").empty());
    }

    void testPipeline() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(cache.set("a", "1"));
        berth::CachePipeline batch = cache.pipeline();
        batch.get("a")
            .get("missing")
            .set("b", "2", 60s)
            .incr("n", 3)
            .exists("b")
            .hset("h", "f", "v")
            .hget("h", "f")
            .hgetall("h")
            .expire("a", 60s)
            .del("a")
            .hdel("h", "f");
        CPPUNIT_ASSERT_EQUAL(std::size_t(11), batch.size());
        std::uint64_t connects = registry.stats().connects;
        std::vector<CacheResult> r = batch.execute();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), batch.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(11), r.size());
        for (const CacheResult& one : r) CPPUNIT_ASSERT(one.ok);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), r[0].value.value());
        CPPUNIT_ASSERT(!r[1].value.has_value());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), r[3].integer);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), r[4].integer);
        CPPUNIT_ASSERT_EQUAL(std::string("v"), r[6].value.value());
        CPPUNIT_ASSERT(r[7].fields == (std::map<std::string, std::string>{{"f", "v"}}));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), r[8].integer);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), r[9].integer);
        CPPUNIT_ASSERT(!cache.get("a").has_value());
        CPPUNIT_ASSERT_EQUAL(std::string("2"), cache.get("b").value());
        CPPUNIT_ASSERT(connects == registry.stats().connects || connects == 0);  // one client, reused
        CPPUNIT_ASSERT(cache.pipeline().execute().empty());

        // 1000 commands in one round trip.
        berth::CachePipeline many = cache.pipeline();
        for (int i = 0; i < 1000; ++i) many.incr("many");
        std::vector<CacheResult> counted = many.execute();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1000), counted.back().integer);
    }

    // MGET: one command for many keys, every one of them in the plugin's namespace; misses, an empty
    // value, a key of another Redis type (nil) and repeats in place; in a pipeline too. Redis down:
    // a miss for every key, never an exception.
    void testMget() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        std::string plugin = berth::test::uniquePlugin();
        Cache& cache = registry.forPlugin(plugin);
        auto client = berth::test::rawRedis();
        client->execute<std::string>(Poco::Redis::Array() << "SET" << plugin + ":first"
                                                          << "1st");
        client->execute<std::string>(Poco::Redis::Array() << "SET" << plugin + ":last"
                                                          << "mine");
        client->execute<std::string>(Poco::Redis::Array() << "SET"
                                                          << "last"
                                                          << "outside");
        CPPUNIT_ASSERT(registry.forPlugin(plugin + "x").set("other", "theirs"));
        CPPUNIT_ASSERT(cache.set("empty", ""));
        CPPUNIT_ASSERT(cache.hset("hash", "f", "v"));

        RedisCounters redis;
        RedisCounters::Snapshot before = redis.take();
        std::vector<std::optional<std::string>> v =
            cache.mget({"first", "missing", "empty", "hash", "other", "first", "last"});
        RedisCounters::Snapshot after = redis.take();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), after.calls("mget") - before.calls("mget"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(7), v.size());
        CPPUNIT_ASSERT_EQUAL(std::string("1st"), v[0].value_or("(miss)"));
        CPPUNIT_ASSERT(!v[1].has_value());
        CPPUNIT_ASSERT_EQUAL(std::string(""), v[2].value_or("(miss)"));  // a hit, not a miss
        CPPUNIT_ASSERT(!v[3].has_value());
        CPPUNIT_ASSERT(!v[4].has_value());  // the other plugin's key
        CPPUNIT_ASSERT_EQUAL(std::string("1st"), v[5].value_or("(miss)"));
        CPPUNIT_ASSERT_EQUAL(std::string("mine"), v[6].value_or("(miss)"));
        CPPUNIT_ASSERT(cache.mget({}).empty());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0),
                             redis.take().calls("mget") - after.calls("mget"));  // none for no keys

        std::vector<CacheResult> r =
            cache.pipeline().set("c", "3").mget({"first", "c", "missing"}).get("c").execute();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), r.size());
        CPPUNIT_ASSERT(r[0].ok && r[1].ok && r[2].ok);
        CPPUNIT_ASSERT(r[1].values == (std::vector<std::optional<std::string>>{"1st", "3", std::nullopt}));
        CPPUNIT_ASSERT_EQUAL(std::string("3"), r[2].value.value_or("(miss)"));
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), registry.stats().errors);

        CPPUNIT_ASSERT_THROW(cache.mget({"first", ""}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(cache.mget({"first", "a\nb"}), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(cache.pipeline().mget({}).execute(), std::invalid_argument);

        berth::test::redisScript("stop >/dev/null");
        v = cache.mget({"first", "c"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), v.size());
        CPPUNIT_ASSERT(!v[0].has_value() && !v[1].has_value());
        r = cache.pipeline().mget({"first"}).get("c").execute();
        CPPUNIT_ASSERT(!r[0].ok && r[0].values.empty() && !r[1].ok);
        CPPUNIT_ASSERT(registry.stats().skipped >= 1);
    }

    // INCR of a value that is not a number, a hash command on a string: a miss, counted, and the
    // other commands of the batch still answer.
    void testRefusedCommandIsAMissNotAnError() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT(cache.set("text", "abc"));
        CPPUNIT_ASSERT(!cache.incr("text").has_value());
        CPPUNIT_ASSERT(!cache.hget("text", "f").has_value());
        CPPUNIT_ASSERT(!cache.hset("text", "f", "v"));
        std::vector<CacheResult> r = cache.pipeline().incr("text").get("text").execute();
        CPPUNIT_ASSERT(!r[0].ok);
        CPPUNIT_ASSERT(r[1].ok);
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), r[1].value.value());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), registry.stats().errors);
        CPPUNIT_ASSERT(cache.available());  // Redis refusing a command is not Redis being down
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), registry.stats().failures);
    }

    void testInvalidKeysThrow() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        CPPUNIT_ASSERT_THROW(cache.get(""), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(cache.set("a\nb", "v"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(cache.set("a", "v", -1s), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(cache.hset("h", "", "v"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(cache.pipeline().set("ok", "v").get(std::string("x\0y", 3)).execute(),
                             std::invalid_argument);
        CPPUNIT_ASSERT(!cache.get("ok").has_value());  // nothing of the batch was sent
    }

    void testNotConfigured() {
        CacheRegistry registry(berth::server::CacheSettings{}, cacheLogger());
        Cache& cache = registry.forPlugin("plain");
        CPPUNIT_ASSERT(!cache.available());
        CPPUNIT_ASSERT(!cache.set("k", "v"));
        CPPUNIT_ASSERT(!cache.get("k").has_value());
        CPPUNIT_ASSERT(!cache.incr("n").has_value());
        std::vector<CacheResult> r = cache.pipeline().get("k").set("k", "v").execute();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.size());
        CPPUNIT_ASSERT(!r[0].ok && !r[1].ok);
        CPPUNIT_ASSERT(!CacheRegistry::disabled().get("k").has_value());
        std::string metrics;
        registry.renderMetrics(metrics);
        CPPUNIT_ASSERT(metrics.empty());
    }

    // More threads than clients: they share the pool (waiting within pool_wait_ms), none fails.
    void testConcurrentUse() {
        CacheRegistry registry(berth::test::testCacheSettings(), cacheLogger());
        Cache& cache = registry.forPlugin(berth::test::uniquePlugin());
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t)
            threads.emplace_back([&cache] {
                for (int i = 0; i < 200; ++i) cache.incr("shared");
            });
        for (std::thread& t : threads) t.join();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1600), cache.incr("shared", 0).value());
        berth::server::CacheStats s = registry.stats();
        CPPUNIT_ASSERT(s.open <= 4);
        CPPUNIT_ASSERT_EQUAL(0, s.inUse);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.skipped);
        std::string metrics;
        registry.renderMetrics(metrics);
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("berth_redis_up 1\n") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(
            metrics, metrics.find("berth_redis_connections{state=\"max\"} 4\n") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("berth_redis_skipped_total 0\n") != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CacheTest);
