// prepareLogging: file channels' relative paths resolved against the configuration's folder
// (whatever the working directory), their folders made, and a clear problem for a folder that
// cannot be; the shipped conf/logging.properties as it is.
#include <Poco/AutoPtr.h>
#include <Poco/File.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "app/logging_setup.h"
#include "test_helpers.h"

using berth::server::prepareLogging;
using berth::test::TempDir;

class LoggingSetupTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LoggingSetupTest);
    CPPUNIT_TEST(testRelativePathResolvedAgainstConfFolder);
    CPPUNIT_TEST(testAbsolutePathKept);
    CPPUNIT_TEST(testChannelsWithoutPathUntouched);
    CPPUNIT_TEST(testFolderThatCannotBeMade);
    CPPUNIT_TEST(testShippedLoggingProperties);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testRelativePathResolvedAgainstConfFolder() {
        TempDir dir;
        std::string conf = dir.subdir("etc/conf");
        Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
        config->setString("logging.channels.file.class", "FileChannel");
        config->setString("logging.channels.file.path", "../logs/deep/berth.log");
        CPPUNIT_ASSERT(prepareLogging(*config, conf).empty());
        CPPUNIT_ASSERT_EQUAL(dir.path() + "/etc/logs/deep/berth.log",
                             config->getString("logging.channels.file.path"));
        CPPUNIT_ASSERT(Poco::File(dir.path() + "/etc/logs/deep").isDirectory());
        CPPUNIT_ASSERT(
            !Poco::File(dir.path() + "/etc/logs/deep/berth.log").exists());  // the channel makes it
    }

    void testAbsolutePathKept() {
        TempDir dir;
        Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
        config->setString("logging.channels.a.path", dir.file("x/y/a.log"));
        CPPUNIT_ASSERT(prepareLogging(*config, "/nonexistent/conf").empty());
        CPPUNIT_ASSERT_EQUAL(dir.file("x/y/a.log"), config->getString("logging.channels.a.path"));
        CPPUNIT_ASSERT(Poco::File(dir.file("x/y")).isDirectory());
    }

    void testChannelsWithoutPathUntouched() {
        Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
        config->setString("logging.channels.console.class", "ConsoleChannel");
        config->setString("logging.channels.empty.path", "");
        CPPUNIT_ASSERT(prepareLogging(*config, "/nonexistent").empty());
        std::vector<std::string> keys;
        config->keys("logging.channels.console", keys);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), keys.size());
        CPPUNIT_ASSERT_EQUAL(std::string(""), config->getString("logging.channels.empty.path"));
    }

    void testFolderThatCannotBeMade() {
        TempDir dir;
        berth::test::writeFile(dir.file("plain"), "a file, not a folder");
        Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
        config->setString("logging.channels.file.path", "plain/logs/berth.log");
        config->setString("logging.channels.fine.path", "ok/berth.log");
        std::vector<std::string> problems = prepareLogging(*config, dir.path());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), problems.size());
        CPPUNIT_ASSERT_MESSAGE(problems[0], berth::test::contains(problems[0],
                                                                  "logging.channels.file.path = "
                                                                  "plain/logs/berth.log: cannot "
                                                                  "create the folder " +
                                                                      dir.file("plain/logs")));
        CPPUNIT_ASSERT(Poco::File(dir.file("ok")).isDirectory());
    }

    void testShippedLoggingProperties() {
        TempDir dir;
        std::string conf = dir.subdir("conf");
        Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> config(new Poco::Util::PropertyFileConfiguration(
            std::string(BERTH_SOURCE_DIR) + "/conf/logging.properties"));
        CPPUNIT_ASSERT(prepareLogging(*config, conf).empty());
        // Beside conf/, as in the repository (logs/) and in a tarball; the install rewrites it.
        CPPUNIT_ASSERT_EQUAL(dir.file("logs/berth.log"), config->getString("logging.channels.file.path"));
        CPPUNIT_ASSERT(Poco::File(dir.file("logs")).isDirectory());
        CPPUNIT_ASSERT_EQUAL(std::string("JsonFormatter"),
                             config->getString("logging.formatters.json.class"));
        CPPUNIT_ASSERT_EQUAL(std::string("json"), config->getString("logging.channels.file.formatter"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(LoggingSetupTest);
