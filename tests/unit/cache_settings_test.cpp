// redis.* of conf/berth.properties: defaults, values, ranges, unknown keys, and an undefined
// ${system.env.X} that disables the cache with a warning instead of refusing to start.
#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "cache/cache_settings.h"

using berth::server::CacheSettings;
using berth::server::loadCacheSettings;
using Poco::Util::MapConfiguration;
using Strings = std::vector<std::string>;

class CacheSettingsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CacheSettingsTest);
    CPPUNIT_TEST(testAbsentIsNotConfigured);
    CPPUNIT_TEST(testValues);
    CPPUNIT_TEST(testProblems);
    CPPUNIT_TEST(testKeyPrefixProblems);
    CPPUNIT_TEST(testUndefinedVariableIsAWarning);
    CPPUNIT_TEST(testBreakerBackoff);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testAbsentIsNotConfigured() {
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        Strings problems, warnings;
        CacheSettings s = loadCacheSettings(*config, problems, warnings);
        CPPUNIT_ASSERT(problems.empty() && warnings.empty());
        CPPUNIT_ASSERT(!s.configured());
        CPPUNIT_ASSERT_EQUAL(6379, s.port);
        CPPUNIT_ASSERT_EQUAL(16, s.poolSize);
        CPPUNIT_ASSERT_EQUAL(std::string(), s.keyPrefix);
    }

    void testValues() {
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        config->setString("redis.host", " 10.0.0.5 ");
        config->setString("redis.port", "6380");
        config->setString("redis.password", "s3cret");
        config->setString("redis.db", "3");
        config->setString("redis.key_prefix", "staging:");
        config->setString("redis.pool_size", "4");
        config->setString("redis.pool_wait_ms", "0");
        config->setString("redis.connect_timeout_ms", "100");
        config->setString("redis.command_timeout_ms", "250");
        Strings problems, warnings;
        CacheSettings s = loadCacheSettings(*config, problems, warnings);
        CPPUNIT_ASSERT(problems.empty() && warnings.empty());
        CPPUNIT_ASSERT(s.configured());
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.5"), s.host);
        CPPUNIT_ASSERT_EQUAL(6380, s.port);
        CPPUNIT_ASSERT_EQUAL(std::string("s3cret"), s.password);
        CPPUNIT_ASSERT_EQUAL(3, s.db);
        CPPUNIT_ASSERT_EQUAL(std::string("staging:"), s.keyPrefix);
        CPPUNIT_ASSERT_EQUAL(4, s.poolSize);
        CPPUNIT_ASSERT_EQUAL(0, s.poolWaitMs);
        CPPUNIT_ASSERT_EQUAL(100, s.connectTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(250, s.commandTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.5:6380/3"), s.describe());
    }

    void testProblems() {
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        config->setString("redis.host", "localhost");
        config->setString("redis.port", "0");
        config->setString("redis.pool_size", "many");
        config->setString("redis.timeout", "5");
        Strings problems, warnings;
        loadCacheSettings(*config, problems, warnings);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), problems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("redis.timeout is not a berthd setting (see the comments in "
                                         "conf/berth.properties)"),
                             problems[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("redis.port = 0 is out of range [1, 65535]"), problems[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("redis.pool_size = 'many' is not an integer"), problems[2]);
    }

    // A prefix that a SCAN pattern would read differently, or that could hide a key in plain sight.
    void testKeyPrefixProblems() {
        for (const std::string& bad : {std::string("tenant*:"), std::string("a b:"), std::string("x[1]:"),
                                       std::string("a\\b"), std::string(129, 'k')}) {
            Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
            config->setString("redis.host", "localhost");
            config->setString("redis.key_prefix", bad);
            Strings problems, warnings;
            CacheSettings s = loadCacheSettings(*config, problems, warnings);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, std::size_t(1), problems.size());
            CPPUNIT_ASSERT_MESSAGE(problems[0], problems[0].find("redis.key_prefix = '") == 0);
            CPPUNIT_ASSERT_MESSAGE(problems[0],
                                   problems[0].find("letters, digits and : _ - . only") != std::string::npos);
            CPPUNIT_ASSERT_EQUAL(std::string(), s.keyPrefix);
        }
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        config->setString("redis.key_prefix", "kit_123_4.a-b:" + std::string(114, 'k'));  // 128 characters
        Strings problems, warnings;
        CPPUNIT_ASSERT_EQUAL(std::size_t(128),
                             loadCacheSettings(*config, problems, warnings).keyPrefix.size());
        CPPUNIT_ASSERT(problems.empty());
    }

    void testUndefinedVariableIsAWarning() {
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        config->setString("redis.host", "${system.env.BERTH_SURELY_UNDEFINED_REDIS}");
        config->setString("redis.port", "6379");
        Strings problems, warnings;
        CacheSettings s = loadCacheSettings(*config, problems, warnings);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), warnings.size());
        CPPUNIT_ASSERT_MESSAGE(warnings[0],
                               warnings[0].find("redis.host: ${system.env.BERTH_SURELY_UNDEFINED_REDIS} is "
                                                "not defined") != std::string::npos);
        CPPUNIT_ASSERT(!s.configured());
    }

    // redis.backoff_initial_ms and redis.backoff_max_ms: 250 and 2000 by default, ranged, and the
    // max no shorter than the first wait.
    void testBreakerBackoff() {
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        Strings problems, warnings;
        CacheSettings s = loadCacheSettings(*config, problems, warnings);
        CPPUNIT_ASSERT_EQUAL(250, s.backoffInitialMs);
        CPPUNIT_ASSERT_EQUAL(2000, s.backoffMaxMs);
        config->setString("redis.backoff_initial_ms", "1500");
        config->setString("redis.backoff_max_ms", "1500");
        s = loadCacheSettings(*config, problems, warnings);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT_EQUAL(1500, s.backoffInitialMs);
        CPPUNIT_ASSERT_EQUAL(1500, s.backoffMaxMs);
        config->setString("redis.backoff_max_ms", "1000");
        loadCacheSettings(*config, problems, warnings);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), problems.size());
        CPPUNIT_ASSERT_EQUAL(
            std::string("redis.backoff_max_ms = 1000 is below redis.backoff_initial_ms = 1500"), problems[0]);
        problems.clear();
        config->setString("redis.backoff_initial_ms", "0");
        config->setString("redis.backoff_max_ms", "3600001");
        loadCacheSettings(*config, problems, warnings);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), problems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("redis.backoff_initial_ms = 0 is out of range [1, 3600000]"),
                             problems[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("redis.backoff_max_ms = 3600001 is out of range [1, 3600000]"),
                             problems[1]);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CacheSettingsTest);
