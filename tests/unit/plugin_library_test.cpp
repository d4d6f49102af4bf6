// PluginLibrary::open against the fixture plugins: each broken one refused with its reason,
// the good ones described by name, version and requirements.
#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>
#include <vector>

#include "berth/plugin.h"
#include "plugin/plugin_library.h"
#include "test_helpers.h"

using berth::server::PluginLibrary;
using berth::server::PluginLoadError;
using berth::test::contains;
using berth::test::fixture;
using berth::test::pluginFile;
using berth::test::thrownMessage;

namespace {

std::string loadError(const std::string& path) {
    return thrownMessage<PluginLoadError>([&] { PluginLibrary::open(path); },
                                          "PluginLibrary::open(" + path + ")");
}

}  // namespace

class PluginLibraryTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PluginLibraryTest);
    CPPUNIT_TEST(testHello);
    CPPUNIT_TEST(testOrderDependentRequirements);
    CPPUNIT_TEST(testOtherFixturesLoad);
    CPPUNIT_TEST(testOpenTwice);
    CPPUNIT_TEST(testGarbage);
    CPPUNIT_TEST(testMissingFile);
    CPPUNIT_TEST(testNotAPlugin);
    CPPUNIT_TEST(testWrongAbi);
    CPPUNIT_TEST(testWrongSignature);
    CPPUNIT_TEST(testValidName);
    CPPUNIT_TEST(testDescriptorTooSmall);
    CPPUNIT_TEST(testBadName);
    CPPUNIT_TEST(testNoVersion);
    CPPUNIT_TEST(testMissingLifecycleFunction);
    CPPUNIT_TEST(testUnresolvedSymbolCaughtAtLoad);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testHello() {
        std::unique_ptr<PluginLibrary> hello = PluginLibrary::open(pluginFile("hello.so"));
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), hello->name());
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), hello->version());
        CPPUNIT_ASSERT(hello->requiredPlugins().empty());
        CPPUNIT_ASSERT_EQUAL(pluginFile("hello.so"), hello->path());
        CPPUNIT_ASSERT_EQUAL(uint32_t(BERTH_ABI_VERSION), hello->descriptor().abi_version);
        CPPUNIT_ASSERT_EQUAL(uint32_t(sizeof(berth_plugin_descriptor)), hello->descriptor().struct_size);
        CPPUNIT_ASSERT_EQUAL(std::string(BERTH_BUILD_SIGNATURE),
                             std::string(hello->descriptor().build_signature));
    }

    void testOrderDependentRequirements() {
        std::unique_ptr<PluginLibrary> dependent = PluginLibrary::open(fixture("order_dependent.so"));
        CPPUNIT_ASSERT_EQUAL(std::string("order_dependent"), dependent->name());
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), dependent->version());
        CPPUNIT_ASSERT(dependent->requiredPlugins() == std::vector<std::string>({"order_base"}));
        std::unique_ptr<PluginLibrary> missing = PluginLibrary::open(fixture("needs_missing.so"));
        CPPUNIT_ASSERT(missing->requiredPlugins() == std::vector<std::string>({"ghost"}));
    }

    void testOtherFixturesLoad() {
        // Loading runs nothing but the entry point: even the throwing ones open fine.
        for (const char* name :
             {"throws_in_configure", "throws_in_start", "clasher", "order_base", "bad_setting"}) {
            std::unique_ptr<PluginLibrary> library = PluginLibrary::open(fixture(std::string(name) + ".so"));
            CPPUNIT_ASSERT_EQUAL(std::string(name), library->name());
        }
        CPPUNIT_ASSERT_EQUAL(std::string("hello"),
                             PluginLibrary::open(fixture("duplicate_hello.so"))->name());
        CPPUNIT_ASSERT_EQUAL(std::string("0.0.1"),
                             PluginLibrary::open(fixture("duplicate_hello.so"))->version());
    }

    void testOpenTwice() {
        std::unique_ptr<PluginLibrary> first = PluginLibrary::open(pluginFile("hello.so"));
        std::unique_ptr<PluginLibrary> second = PluginLibrary::open(pluginFile("hello.so"));
        first.reset();  // unloading one handle leaves the other usable
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), second->name());
    }

    void testGarbage() {
        std::string message = loadError(fixture("garbage.so"));
        CPPUNIT_ASSERT_MESSAGE(message, message.rfind("cannot be loaded: ", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(
            message, contains(message, "invalid ELF header") || contains(message, "file too short"));
    }

    void testMissingFile() {
        std::string message = loadError(fixture("does_not_exist.so"));
        CPPUNIT_ASSERT_MESSAGE(message, message.rfind("cannot be loaded: ", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(message, contains(message, "No such file or directory"));
    }

    void testNotAPlugin() {
        CPPUNIT_ASSERT_EQUAL(std::string("not a Berth plugin: no berth_plugin_entry_v1 symbol"),
                             loadError(fixture("not_a_plugin.so")));
    }

    void testWrongAbi() {
        // The fixture's signature is wrong too: the version is checked first and reported.
        CPPUNIT_ASSERT_EQUAL(std::string("plugin ABI version 999, this berthd expects 1"),
                             loadError(fixture("wrong_abi.so")));
    }

    void testDescriptorTooSmall() {
        CPPUNIT_ASSERT_EQUAL(std::string("descriptor is 16 bytes, this berthd expects at least ") +
                                 std::to_string(sizeof(berth_plugin_descriptor)),
                             loadError(fixture("abi_small_struct.so")));
    }

    void testBadName() {
        CPPUNIT_ASSERT_EQUAL(
            std::string("invalid plugin name 'Bad Name!': use 1-64 characters of [a-z0-9_-]"),
            loadError(fixture("abi_bad_name.so")));
    }

    void testNoVersion() {
        CPPUNIT_ASSERT_EQUAL(std::string("plugin 'abi_no_version' declares no version"),
                             loadError(fixture("abi_no_version.so")));
    }

    void testMissingLifecycleFunction() {
        CPPUNIT_ASSERT_EQUAL(std::string("descriptor lacks a lifecycle function"),
                             loadError(fixture("abi_null_lifecycle.so")));
    }

    // Poco::SharedLibrary binds lazily; the RTLD_NOW probe must report the missing symbol at load.
    void testUnresolvedSymbolCaughtAtLoad() {
        std::string message = loadError(fixture("unresolved_symbol.so"));
        CPPUNIT_ASSERT_MESSAGE(message, contains(message, "cannot be loaded: "));
        CPPUNIT_ASSERT_MESSAGE(message,
                               contains(message, "undefined symbol: berth_fixture_function_nobody_defines"));
    }

    void testWrongSignature() {
        CPPUNIT_ASSERT_EQUAL(
            std::string("built as 'abi=1;sdk=0;cc=gcc;libstdc++=7;cxx11abi=0;poco=0x01090000', "
                        "this berthd is '" BERTH_BUILD_SIGNATURE "': rebuild the plugin against this SDK"),
            loadError(fixture("wrong_signature.so")));
    }

    void testValidName() {
        for (const char* good : {"hello", "a", "a-b_c9", "0", "order_base"})
            CPPUNIT_ASSERT_MESSAGE(good, PluginLibrary::validName(good));
        CPPUNIT_ASSERT(PluginLibrary::validName(std::string(64, 'a').c_str()));
        CPPUNIT_ASSERT(!PluginLibrary::validName(std::string(65, 'a').c_str()));
        CPPUNIT_ASSERT(!PluginLibrary::validName(nullptr));
        for (const char* bad : {"", "Hello", "a b", "a/b", "a.b", "../x", "\xc3\xa9", "a\n", "a:b"})
            CPPUNIT_ASSERT_MESSAGE(bad, !PluginLibrary::validName(bad));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginLibraryTest);
