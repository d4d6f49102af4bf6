// The cache's key namespacing: every key a plugin names is sent to Redis as
// "<redis.key_prefix><plugin>:<key>" (values and hash fields as they are), for each command.
#include <Poco/Logger.h>
#include <Poco/Redis/Array.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "cache/cache_registry.h"
#include "cache/host_cache.h"

using berth::CacheCommand;
using berth::server::HostCache;
using berth::server::redisCommand;
using Op = berth::CacheCommand::Op;
using Words = std::vector<std::string>;

class HostCacheTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(HostCacheTest);
    CPPUNIT_TEST(testNamespaceIsPluginThenColon);
    CPPUNIT_TEST(testKeyPrefixGoesFirst);
    CPPUNIT_TEST(testEveryCommandNamespacesItsKeysOnly);
    CPPUNIT_TEST(testRegistryHandsThePrefixToEveryPlugin);
    CPPUNIT_TEST_SUITE_END();

  public:
    static Words words(const Poco::Redis::Array& command) {
        Words out;
        for (std::size_t i = 0; i < command.size(); ++i)
            out.push_back(command.get<Poco::Redis::BulkString>(i).value());
        return out;
    }

    static CacheCommand command(Op op, std::string key, std::string field = "", std::string value = "",
                                std::int64_t number = 0) {
        CacheCommand c;
        c.op = op;
        c.key = std::move(key);
        c.field = std::move(field);
        c.value = std::move(value);
        c.number = number;
        return c;
    }

    void testNamespaceIsPluginThenColon() {
        HostCache cache("", "visits", nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("visits:"), cache.namespacePrefix());
        CPPUNIT_ASSERT((Words{"GET", "visits:visit_task:7"}) ==
                       words(redisCommand(command(Op::Get, "visit_task:7"), cache.namespacePrefix())));
    }

    void testKeyPrefixGoesFirst() {
        HostCache cache("kit_12_3:", "visits", nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("kit_12_3:visits:"), cache.namespacePrefix());
        CPPUNIT_ASSERT((Words{"DEL", "kit_12_3:visits:visit_task:7"}) ==
                       words(redisCommand(command(Op::Del, "visit_task:7"), cache.namespacePrefix())));
    }

    void testEveryCommandNamespacesItsKeysOnly() {
        const std::string ns = "staging:visits:";
        auto sent = [&](const CacheCommand& c) { return words(redisCommand(c, ns)); };
        CPPUNIT_ASSERT((Words{"SET", ns + "k", "v", "EX", "30"}) == sent(command(Op::Set, "k", "", "v", 30)));
        CPPUNIT_ASSERT((Words{"SET", ns + "k", "v"}) == sent(command(Op::Set, "k", "", "v", 0)));
        CPPUNIT_ASSERT((Words{"EXISTS", ns + "k"}) == sent(command(Op::Exists, "k")));
        CPPUNIT_ASSERT((Words{"EXPIRE", ns + "k", "9"}) == sent(command(Op::Expire, "k", "", "", 9)));
        CPPUNIT_ASSERT((Words{"INCRBY", ns + "k", "2"}) == sent(command(Op::Incr, "k", "", "", 2)));
        CPPUNIT_ASSERT((Words{"HGET", ns + "h", "f"}) == sent(command(Op::HGet, "h", "f")));
        CPPUNIT_ASSERT((Words{"HSET", ns + "h", "f", "v"}) == sent(command(Op::HSet, "h", "f", "v")));
        CPPUNIT_ASSERT((Words{"HDEL", ns + "h", "f"}) == sent(command(Op::HDel, "h", "f")));
        CPPUNIT_ASSERT((Words{"HGETALL", ns + "h"}) == sent(command(Op::HGetAll, "h")));
        CacheCommand mget;
        mget.op = Op::MGet;
        mget.keys = {"a", "b:c"};
        CPPUNIT_ASSERT((Words{"MGET", ns + "a", ns + "b:c"}) == sent(mget));
    }

    void testRegistryHandsThePrefixToEveryPlugin() {
        berth::server::CacheSettings settings;  // no redis.host: no pool, the namespacing all the same
        settings.keyPrefix = "kit_12_3:";
        berth::server::CacheRegistry registry(settings, Poco::Logger::get("berth.cache"));
        for (const std::string plugin : {"visits", "hello"})
            CPPUNIT_ASSERT_EQUAL("kit_12_3:" + plugin + ":",
                                 static_cast<HostCache&>(registry.forPlugin(plugin)).namespacePrefix());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HostCacheTest);
