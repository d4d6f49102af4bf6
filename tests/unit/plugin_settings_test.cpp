// PluginSettings::load: <confDir>/<name>.properties, the host's keys (enabled, prefix) and
// their problems; defaults when the file is absent.
#include <cppunit/extensions/HelperMacros.h>
#include <cstdlib>

#include <string>
#include <vector>

#include "plugin/plugin_settings.h"
#include "test_helpers.h"

using berth::server::PluginSettings;
using berth::test::contains;
using berth::test::TempDir;
using berth::test::writeFile;
using Problems = std::vector<std::string>;

class PluginSettingsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PluginSettingsTest);
    CPPUNIT_TEST(testNoFileDefaults);
    CPPUNIT_TEST(testEmptyConfDirDefaults);
    CPPUNIT_TEST(testPluginKeysReadable);
    CPPUNIT_TEST(testDisabled);
    CPPUNIT_TEST(testBadEnabled);
    CPPUNIT_TEST(testPrefixOverride);
    CPPUNIT_TEST(testBadPrefix);
    CPPUNIT_TEST(testEveryProblemReported);
    CPPUNIT_TEST(testOtherPluginsFileIgnored);
    CPPUNIT_TEST(testEnvironmentVariablesExpand);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testNoFileDefaults() {
        TempDir dir;
        Problems problems;
        PluginSettings settings = PluginSettings::load(dir.path(), "hello", problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT(settings.enabled);
        CPPUNIT_ASSERT_EQUAL(std::string("/hello"), settings.prefix);
        CPPUNIT_ASSERT(settings.file.empty());
        CPPUNIT_ASSERT(!settings.config.isNull());
        CPPUNIT_ASSERT(!settings.config->hasProperty("greeting"));
    }

    void testEmptyConfDirDefaults() {
        Problems problems;
        PluginSettings settings = PluginSettings::load("", "hello", problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("/hello"), settings.prefix);
        CPPUNIT_ASSERT(!settings.config.isNull());
        PluginSettings missing = PluginSettings::load("/nonexistent/berth/conf.d", "hello", problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT(missing.enabled);
    }

    void testPluginKeysReadable() {
        TempDir dir;
        writeFile(dir.file("hello.properties"), "# comment\ngreeting = Howdy\nlimit = 5\n");
        Problems problems;
        PluginSettings settings = PluginSettings::load(dir.path(), "hello", problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT_EQUAL(dir.file("hello.properties"), settings.file);
        CPPUNIT_ASSERT(settings.enabled);
        CPPUNIT_ASSERT_EQUAL(std::string("/hello"), settings.prefix);
        CPPUNIT_ASSERT_EQUAL(std::string("Howdy"), settings.config->getString("greeting"));
        CPPUNIT_ASSERT_EQUAL(5, settings.config->getInt("limit"));
    }

    void testDisabled() {
        for (const char* value : {"false", "no", "off", "0", "FALSE"}) {
            TempDir dir;
            writeFile(dir.file("hello.properties"), std::string("enabled = ") + value + "\n");
            Problems problems;
            PluginSettings settings = PluginSettings::load(dir.path(), "hello", problems);
            CPPUNIT_ASSERT_MESSAGE(value, problems.empty());
            CPPUNIT_ASSERT_MESSAGE(value, !settings.enabled);
        }
        TempDir dir;
        writeFile(dir.file("hello.properties"), "enabled = true\n");
        Problems problems;
        CPPUNIT_ASSERT(PluginSettings::load(dir.path(), "hello", problems).enabled);
    }

    void testBadEnabled() {
        TempDir dir;
        writeFile(dir.file("hello.properties"), "enabled = maybe\n");
        Problems problems;
        PluginSettings::load(dir.path(), "hello", problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), problems.size());
        CPPUNIT_ASSERT_EQUAL(
            dir.file("hello.properties") + ": enabled = 'maybe' is not a boolean (true/false)", problems[0]);
    }

    void testPrefixOverride() {
        TempDir dir;
        writeFile(dir.file("hello.properties"), "prefix = /api/v1/greetings\n");
        Problems problems;
        PluginSettings settings = PluginSettings::load(dir.path(), "hello", problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("/api/v1/greetings"), settings.prefix);
    }

    void testBadPrefix() {
        for (const char* prefix : {"greetings", "/", "/a/", "/a//b", "/a b", "/a?x"}) {
            TempDir dir;
            writeFile(dir.file("hello.properties"), std::string("prefix = ") + prefix + "\n");
            Problems problems;
            PluginSettings settings = PluginSettings::load(dir.path(), "hello", problems);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(prefix, std::size_t(1), problems.size());
            CPPUNIT_ASSERT_MESSAGE(problems[0],
                                   contains(problems[0], dir.file("hello.properties") + ": prefix '"));
            CPPUNIT_ASSERT_EQUAL(std::string("/hello"), settings.prefix);  // the default stays
        }
        TempDir dir;
        writeFile(dir.file("hello.properties"), "prefix =\n");
        Problems problems;
        PluginSettings::load(dir.path(), "hello", problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), problems.size());
    }

    void testEveryProblemReported() {
        TempDir dir;
        writeFile(dir.file("hello.properties"), "enabled = sometimes\nprefix = no-slash\n");
        Problems problems;
        PluginSettings::load(dir.path(), "hello", problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), problems.size());
        CPPUNIT_ASSERT(contains(problems[0], "enabled = 'sometimes'"));
        CPPUNIT_ASSERT(contains(problems[1], "prefix 'no-slash'"));
    }

    void testOtherPluginsFileIgnored() {
        TempDir dir;
        writeFile(dir.file("other.properties"), "enabled = false\nprefix = bad\n");
        Problems problems;
        PluginSettings settings = PluginSettings::load(dir.path(), "hello", problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT(settings.enabled);
    }

    void testEnvironmentVariablesExpand() {
        TempDir dir;
        ::setenv("BERTH_TEST_SECRET", "s3cret", 1);
        writeFile(dir.file("hello.properties"), "password = ${system.env.BERTH_TEST_SECRET}\n");
        Problems problems;
        PluginSettings settings = PluginSettings::load(dir.path(), "hello", problems);
        std::string password = settings.config->getString("password");  // expanded when read
        ::unsetenv("BERTH_TEST_SECRET");
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("s3cret"), password);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginSettingsTest);
