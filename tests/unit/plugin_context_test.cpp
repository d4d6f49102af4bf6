// PluginContext: a plugin's own settings through berth::Context; a value of the wrong type
// throws std::invalid_argument naming the key, the value and the file.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <Poco/Util/MapConfiguration.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "client/client_registry.h"
#include "plugin/plugin_context.h"
#include "test_helpers.h"

using berth::server::PluginContext;
using berth::test::thrownMessage;

namespace {

PluginContext makeContext(const std::string& file) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    config->setString("greeting", "Howdy");
    config->setString("limit", "42");
    config->setString("negative", "-9223372036854775808");
    config->setString("ratio", "0.25");
    config->setString("flag", "true");
    config->setString("word", "ten");
    config->setString("huge", "9223372036854775808");
    config->setString("empty", "");
    config->setString("maybe", "maybe");
    config->setString("grouped", "1,000");
    return PluginContext("hello", "/hello", file, config);
}

}  // namespace

class PluginContextTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PluginContextTest);
    CPPUNIT_TEST(testIdentity);
    CPPUNIT_TEST(testReads);
    CPPUNIT_TEST(testFallbacks);
    CPPUNIT_TEST(testBadIntNamesKeyAndFile);
    CPPUNIT_TEST(testBadIntWithoutFileNamesPlugin);
    CPPUNIT_TEST(testIntOverflowRefused);
    CPPUNIT_TEST(testBadDouble);
    CPPUNIT_TEST(testBadBool);
    CPPUNIT_TEST(testHttpClients);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testIdentity() {
        PluginContext context = makeContext("/etc/berth/plugins.d/hello.properties");
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), context.pluginName());
        CPPUNIT_ASSERT_EQUAL(std::string("/hello"), context.prefix());
        CPPUNIT_ASSERT_EQUAL(std::string("berth.hello"), context.logger().name());
    }

    void testReads() {
        PluginContext context = makeContext("f");
        CPPUNIT_ASSERT(context.has("greeting"));
        CPPUNIT_ASSERT(!context.has("missing"));
        CPPUNIT_ASSERT_EQUAL(std::string("Howdy"), context.getString("greeting", "Hello"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), context.getInt("limit", 1));
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::int64_t>::min(), context.getInt("negative", 1));
        CPPUNIT_ASSERT_EQUAL(0.25, context.getDouble("ratio", 1.0));
        CPPUNIT_ASSERT_EQUAL(42.0, context.getDouble("limit", 1.0));
        CPPUNIT_ASSERT_EQUAL(true, context.getBool("flag", false));
    }

    void testFallbacks() {
        PluginContext context = makeContext("f");
        CPPUNIT_ASSERT_EQUAL(std::string("Hello"), context.getString("missing", "Hello"));
        CPPUNIT_ASSERT_EQUAL(std::string(), context.getString("missing", {}));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), context.getInt("missing", 7));
        CPPUNIT_ASSERT_EQUAL(1.5, context.getDouble("missing", 1.5));
        CPPUNIT_ASSERT_EQUAL(true, context.getBool("missing", true));
    }

    void testBadIntNamesKeyAndFile() {
        PluginContext context = makeContext("/etc/berth/plugins.d/hello.properties");
        CPPUNIT_ASSERT_EQUAL(
            std::string("/etc/berth/plugins.d/hello.properties: word = 'ten' is not an integer"),
            thrownMessage<std::invalid_argument>([&] { context.getInt("word", 1); }));
        CPPUNIT_ASSERT_EQUAL(
            std::string("/etc/berth/plugins.d/hello.properties: ratio = '0.25' is not an integer"),
            thrownMessage<std::invalid_argument>([&] { context.getInt("ratio", 1); }));
        CPPUNIT_ASSERT_THROW(context.getInt("empty", 1), std::invalid_argument);
    }

    void testBadIntWithoutFileNamesPlugin() {
        PluginContext context = makeContext("");
        CPPUNIT_ASSERT_EQUAL(std::string("plugin hello: word = 'ten' is not an integer"),
                             thrownMessage<std::invalid_argument>([&] { context.getInt("word", 1); }));
    }

    void testIntOverflowRefused() {
        PluginContext context = makeContext("f");
        // Poco's parser would skip the comma as a thousands separator and read 1000.
        CPPUNIT_ASSERT_EQUAL(std::string("f: grouped = '1,000' is not an integer"),
                             thrownMessage<std::invalid_argument>([&] { context.getInt("grouped", 1); }));
        CPPUNIT_ASSERT_EQUAL(std::string("f: huge = '9223372036854775808' is not an integer"),
                             thrownMessage<std::invalid_argument>([&] { context.getInt("huge", 1); }));
    }

    void testBadDouble() {
        PluginContext context = makeContext("f");
        CPPUNIT_ASSERT_EQUAL(std::string("f: word = 'ten' is not a number"),
                             thrownMessage<std::invalid_argument>([&] { context.getDouble("word", 1.0); }));
    }

    void testBadBool() {
        PluginContext context = makeContext("f");
        CPPUNIT_ASSERT_EQUAL(std::string("f: maybe = 'maybe' is not a boolean (true/false)"),
                             thrownMessage<std::invalid_argument>([&] { context.getBool("maybe", false); }));
        CPPUNIT_ASSERT_THROW(context.getBool("word", false), std::invalid_argument);
    }

    // ctx.http(): the configured services, shared by every plugin; any other name throws at
    // configure time, naming what is configured.
    void testHttpClients() {
        CPPUNIT_ASSERT_EQUAL(
            std::string("no service 'city-service': berth.properties configures none "
                        "(clients.<service>.url …)"),
            thrownMessage<std::invalid_argument>([] { makeContext("f").http("city-service"); }));
        berth::server::ClientSettings hospital, user;
        hospital.name = "hospital-service";
        hospital.host = user.host = "127.0.0.1";
        user.name = "user-service";
        berth::server::ClientRegistry clients({hospital, user}, Poco::Logger::get("berth.clients"));
        Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
        PluginContext visits("visits", "/visits", "f", config, nullptr, nullptr, &clients);
        PluginContext reports("reports", "/reports", "f", config, nullptr, nullptr, &clients);
        CPPUNIT_ASSERT_EQUAL(std::string("hospital-service"), visits.http("hospital-service").service());
        CPPUNIT_ASSERT(&visits.http("user-service") == &reports.http("user-service"));  // one pool each
        CPPUNIT_ASSERT_EQUAL(
            std::string("no service 'city-service' in berth.properties (clients.<service>.url "
                        "…); configured: 'hospital-service', 'user-service'"),
            thrownMessage<std::invalid_argument>([&] { visits.http("city-service"); }));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginContextTest);
