// The test kit's ApiTestCase itself (berth/testing.h), driven by hand (setUp, start, tearDown) the
// way CppUnit drives it: each test gets a schema and a Redis key prefix of its own that are gone
// after tearDown(), a restart keeps them, and what goes wrong before the first request (a bad
// setting, a missing plugin file, a host that cannot start, an environment without the local
// services) fails the test with a message that says what to fix.
#include <cppunit/Exception.h>
#include <cppunit/extensions/HelperMacros.h>
#include <stdlib.h>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "berth/testing.h"
#include "redis_env.h"

using berth::Json;
using berth::testing::ApiResult;
using berth::testing::ApiTestCase;

namespace {

const std::string kConfig = BERTH_SOURCE_DIR "/conf/berth.properties";

// What a call that should fail the test said; "" when it did not fail.
template <class F>
std::string failureOf(F call) {
    try {
        call();
    } catch (const CppUnit::Exception& e) {
        return e.what();
    }
    return "";
}

// Sets an environment variable for the length of a scope.
class EnvOverride {
  public:
    EnvOverride(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value != nullptr)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~EnvOverride() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }

  private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

class ApiTestCaseTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ApiTestCaseTest);
    CPPUNIT_TEST(testFreshSchemaAndKeysPerTest);
    CPPUNIT_TEST(testRestartKeepsSchemaAndKeys);
    CPPUNIT_TEST(testBadSettingFailsClearly);
    CPPUNIT_TEST(testMissingPluginFileFailsClearly);
    CPPUNIT_TEST(testHostThatCannotStartFailsWithItsLog);
    CPPUNIT_TEST(testEnvironmentWithoutTheServicesFailsClearly);
    CPPUNIT_TEST(testFileSettingsWithoutTheEnvironment);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testFreshSchemaAndKeysPerTest() {
        ApiTestCase first({BERTH_VISITS_PLUGIN}, kConfig);
        first.setUp();
        ApiResult created =
            first.api().post("/visits/visit_tasks", Json::object({{"title", "t"}, {"hospital_id", 7}}));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), 201, created.status());
        CPPUNIT_ASSERT_EQUAL(
            200, first.api().get("/visits/visit_tasks/<id>", {{"id", 1}}).status());  // cached now
        const std::string schema = first.schema(), prefix = first.keyPrefix();
        berth::DbResult current = first.query("SELECT current_schema() AS s");
        CPPUNIT_ASSERT_EQUAL(schema, current[0]["s"].asString());
        CPPUNIT_ASSERT_EQUAL(prefix, schema + ":");
        CPPUNIT_ASSERT(berth::test::rawGet(prefix + "visits:visit_task:1").has_value());
        first.tearDown();

        ApiTestCase second({BERTH_VISITS_PLUGIN}, kConfig);
        second.setUp();
        CPPUNIT_ASSERT(second.schema() != schema && second.keyPrefix() != prefix);
        CPPUNIT_ASSERT_EQUAL(404, second.api().get("/visits/visit_tasks/<id>", {{"id", 1}}).status());
        CPPUNIT_ASSERT_MESSAGE(
            "tearDown() drops the schema",
            second.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", {schema}).empty());
        CPPUNIT_ASSERT_MESSAGE("tearDown() deletes the keys",
                               !berth::test::rawGet(prefix + "visits:visit_task:1").has_value());
        second.tearDown();
    }

    void testRestartKeepsSchemaAndKeys() {
        ApiTestCase probe({BERTH_VISITS_PLUGIN}, kConfig);
        probe.setUp();
        CPPUNIT_ASSERT(!probe.running());
        ApiResult created =
            probe.api().post("/visits/visit_tasks", Json::object({{"title", "t"}, {"hospital_id", 7}}));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), 201, created.status());
        CPPUNIT_ASSERT(probe.running());
        CPPUNIT_ASSERT_EQUAL(200,
                             probe.api().get("/visits/visit_tasks/<id>", {{"id", 1}}).status());  // cached
        const std::string key = probe.keyPrefix() + "visits:visit_task:1";
        CPPUNIT_ASSERT(berth::test::rawGet(key).has_value());
        CPPUNIT_ASSERT(probe.stop());
        CPPUNIT_ASSERT(!probe.running());
        CPPUNIT_ASSERT_MESSAGE(probe.log(), probe.waitForLog("shutting down"));

        probe.setPlugin("visits", "detail_timeout_ms", "500");  // settings may change between starts
        ApiResult again = probe.api().get("/visits/visit_tasks/<id>", {{"id", 1}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(again.describe(), 200, again.status());
        CPPUNIT_ASSERT_EQUAL(std::string("t"), again.data()["title"].asString());
        CPPUNIT_ASSERT_MESSAGE("the same key prefix", berth::test::rawGet(key).has_value());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), probe.query("SELECT id FROM visit_tasks").size());
        probe.tearDown();
    }

    void testBadSettingFailsClearly() {
        ApiTestCase probe({BERTH_VISITS_PLUGIN}, kConfig);
        probe.setUp();
        probe.set("server.worker_treads", "4");
        probe.set("redis.key_prefix", "a b");
        std::string failure = failureOf([&] { probe.start(); });
        CPPUNIT_ASSERT_MESSAGE(failure,
                               failure.find("ApiTestCase: the test's configuration") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(
            failure, failure.find("server.worker_treads is not a berthd setting") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(failure, failure.find("redis.key_prefix = 'a b'") != std::string::npos);
        CPPUNIT_ASSERT(!probe.running());
        probe.tearDown();
    }

    void testMissingPluginFileFailsClearly() {
        ApiTestCase probe({"/nonexistent/visits.so"}, kConfig);
        probe.setUp();
        std::string failure = failureOf([&] { probe.start(); });
        CPPUNIT_ASSERT_MESSAGE(
            failure,
            failure.find("the plugin file /nonexistent/visits.so does not exist") != std::string::npos);
        probe.tearDown();

        ApiTestCase noConfig({BERTH_VISITS_PLUGIN}, "/nonexistent/berth.properties");
        noConfig.setUp();
        failure = failureOf([&] { noConfig.start(); });
        CPPUNIT_ASSERT_MESSAGE(
            failure, failure.find("the configuration /nonexistent/berth.properties cannot be read") !=
                         std::string::npos);
        noConfig.tearDown();
    }

    // The access log cannot be created: the host refuses to start (berthd exits 73 for it).
    void testHostThatCannotStartFailsWithItsLog() {
        ApiTestCase probe({BERTH_VISITS_PLUGIN}, kConfig);
        probe.setUp();
        probe.set("http.access_log_file", "/proc/berth-kit/access.log");
        std::string failure = failureOf([&] { probe.start(); });
        CPPUNIT_ASSERT_MESSAGE(
            failure, failure.find("ApiTestCase: the host did not start: access log:") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(failure, failure.find("The host's log:") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(failure,
                               failure.find("plugin 'visits' stopped") != std::string::npos);  // undone
        CPPUNIT_ASSERT(!probe.running());
        probe.tearDown();
    }

    // A variable set overrides the file, and a malformed one fails the test naming it.
    void testEnvironmentWithoutTheServicesFailsClearly() {
        ApiTestCase probe({BERTH_VISITS_PLUGIN}, kConfig);
        probe.setUp();
        {
            EnvOverride port("BERTH_PG_PORT", "port");
            std::string failure = failureOf([&] { probe.start(); });
            CPPUNIT_ASSERT_MESSAGE(failure,
                                   failure.find("ApiTestCase: BERTH_PG_PORT = 'port' is not a number "
                                                "from 1 to 65535") != std::string::npos);
        }
        {
            EnvOverride redis("BERTH_REDIS_PORT", "");
            std::string failure = failureOf([&] { probe.start(); });
            CPPUNIT_ASSERT_MESSAGE(failure, failure.find("BERTH_REDIS_PORT = ''") != std::string::npos);
        }
        probe.start();  // the environment back: it starts
        CPPUNIT_ASSERT(probe.running());
        probe.tearDown();
    }

    // Without BERTH_PG_* and BERTH_REDIS_* the file's db.* and redis.* are used as written.
    void testFileSettingsWithoutTheEnvironment() {
        const std::string folder = Poco::TemporaryFile::tempName();
        Poco::File(folder).createDirectories();
        std::ifstream in(kConfig, std::ios::binary);
        std::string text(std::istreambuf_iterator<char>(in), {});
        auto env = [](const char* name) { return std::string(std::getenv(name) ? std::getenv(name) : ""); };
        text += "\nplugins.conf_dir = " BERTH_SOURCE_DIR "/conf/plugins.d\n";
        text += "db.main.host = " + env("BERTH_PG_HOST") + "\ndb.main.port = " + env("BERTH_PG_PORT") +
                "\ndb.main.user = " + env("BERTH_PG_USER") +
                "\ndb.main.password = " + env("BERTH_PG_PASSWORD") +
                "\ndb.main.dbname = " + env("BERTH_PG_TEST_DATABASE") +
                "\nredis.host = " + env("BERTH_REDIS_HOST") + "\nredis.port = " + env("BERTH_REDIS_PORT") +
                "\nredis.password = " + env("BERTH_REDIS_PASSWORD") +
                "\nredis.db = " + env("BERTH_REDIS_DB") + "\n";
        std::ofstream(folder + "/berth.properties", std::ios::binary) << text;
        {
            std::vector<std::unique_ptr<EnvOverride>> unset;
            for (const char* name : {"BERTH_PG_HOST", "BERTH_PG_PORT", "BERTH_PG_USER", "BERTH_PG_PASSWORD",
                                     "BERTH_PG_TEST_DATABASE", "BERTH_REDIS_HOST", "BERTH_REDIS_PORT",
                                     "BERTH_REDIS_PASSWORD", "BERTH_REDIS_DB"})
                unset.push_back(std::make_unique<EnvOverride>(name, nullptr));
            ApiTestCase probe({BERTH_VISITS_PLUGIN}, folder + "/berth.properties");
            probe.setUp();
            probe.start();
            CPPUNIT_ASSERT(probe.running());
            ApiResult created =  // through the file's PostgreSQL
                probe.api().post("/visits/visit_tasks", Json::object({{"title", "t"}, {"hospital_id", 7}}));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), 201, created.status());
            probe.tearDown();
        }
        Poco::File(folder).remove(true);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ApiTestCaseTest);
