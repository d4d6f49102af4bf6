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
    CPPUNIT_TEST(testUndefinedVariableIsAWarning);
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
    }

    void testValues() {
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        config->setString("redis.host", " 10.0.0.5 ");
        config->setString("redis.port", "6380");
        config->setString("redis.password", "s3cret");
        config->setString("redis.db", "3");
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
};

CPPUNIT_TEST_SUITE_REGISTRATION(CacheSettingsTest);
