// PluginManager on a temporary plugins folder of fixture copies: what starts, what is refused
// and why, start order, abort mode, stopAll unmounting, and check() without running plugins.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>

#include <unistd.h>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/host_request.h"
#include "http/route_table.h"
#include "plugin/plugin_manager.h"
#include "test_helpers.h"

using berth::Json;
using berth::Method;
using berth::server::HostRequest;
using berth::server::PluginFailure;
using berth::server::PluginManager;
using berth::server::PluginManagerSettings;
using berth::server::PluginStartupError;
using berth::server::RouteTable;
using berth::test::CaptureChannel;
using berth::test::contains;
using berth::test::copyInto;
using berth::test::fixture;
using berth::test::pluginFile;
using berth::test::TempDir;
using berth::test::writeFile;
using Outcome = RouteTable::Lookup::Outcome;

namespace {

std::string canonical(const std::string& path) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return path;
    return resolved;
}

Outcome lookup(const RouteTable& table, Method method, const std::string& path) {
    RouteTable::Lookup out;
    std::vector<std::string> scratch;
    table.find(method, path, out, scratch);
    return out.outcome;
}

// The reason given for `plugin` (its name, or the file's base name for unnamed failures).
std::string reasonFor(const std::vector<PluginFailure>& failures, const std::string& plugin) {
    std::string all;
    for (const PluginFailure& failure : failures) {
        if (failure.plugin == plugin) return failure.reason;
        if (failure.plugin.empty() && contains(failure.file, "/" + plugin)) return failure.reason;
        all += "\n  " + failure.describe();
    }
    CPPUNIT_FAIL("no failure for " + plugin + "; failures:" + all);
    return {};
}

std::vector<std::string> startedNames(const PluginManager& manager) {
    std::vector<std::string> names;
    Json list = manager.describe();
    for (const Json& plugin : list.asArray()) names.push_back(plugin["name"].asString());
    return names;
}

}  // namespace

class PluginManagerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PluginManagerTest);
    CPPUNIT_TEST(testStartsGoodAndSkipsBad);
    CPPUNIT_TEST(testFailureDescriptions);
    CPPUNIT_TEST(testDescribe);
    CPPUNIT_TEST(testStartedRoutesServe);
    CPPUNIT_TEST(testDuplicateNameRefused);
    CPPUNIT_TEST(testPrefixClashWithPlugin);
    CPPUNIT_TEST(testPrefixClashWithHost);
    CPPUNIT_TEST(testRequirementStartsFirst);
    CPPUNIT_TEST(testDependentOfFailedPluginRefused);
    CPPUNIT_TEST(testBadSettingFailsConfigure);
    CPPUNIT_TEST(testGoodSettingReachesPlugin);
    CPPUNIT_TEST(testDisabledPluginSkippedQuietly);
    CPPUNIT_TEST(testBadPluginSettingsRefused);
    CPPUNIT_TEST(testPrefixOverride);
    CPPUNIT_TEST(testAbortOnLoadFailure);
    CPPUNIT_TEST(testAbortOnStartFailure);
    CPPUNIT_TEST(testStopAllUnmounts);
    CPPUNIT_TEST(testThrowingConstructorSkipped);
    CPPUNIT_TEST(testThrowingStopLoggedAndSurvived);
    CPPUNIT_TEST(testAbortStopsWhatAlreadyStarted);
    CPPUNIT_TEST(testMissingPluginsDir);
    CPPUNIT_TEST(testEmptyDirAndNonPluginFiles);
    CPPUNIT_TEST(testSymlinkLoadedOnce);
    CPPUNIT_TEST(testCheckReportsWithoutRunning);
    CPPUNIT_TEST(testCheckIgnoresAbort);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        log_ = new CaptureChannel;
        logger_ = &Poco::Logger::get("unit.plugins");
        logger_->setChannel(
            Poco::AutoPtr<Poco::Channel>(log_.get(), true));  // shared: log_ keeps its reference
        logger_->setLevel(Poco::Message::PRIO_DEBUG);
        dir_ = std::make_unique<TempDir>();
        plugins_ = dir_->subdir("plugins");
        conf_ = dir_->subdir("plugins.d");
        table_ = std::make_unique<RouteTable>();
        for (const char* path : berth::server::kHostPaths) table_->reserve(path);
    }

    void tearDown() override {
        manager_.reset();  // before the table it unmounts from
        table_.reset();
        dir_.reset();
        logger_->setChannel(nullptr);
    }

    void testStartsGoodAndSkipsBad() {
        copy(pluginFile("hello.so"), "hello.so");
        for (const char* name : {"garbage", "not_a_plugin", "wrong_abi", "wrong_signature",
                                 "throws_in_configure", "throws_in_start", "needs_missing"})
            copy(fixture(std::string(name) + ".so"), std::string(name) + ".so");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), manager.startedCount());
        CPPUNIT_ASSERT(startedNames(manager) == std::vector<std::string>({"hello"}));
        const auto& failures = manager.failures();
        CPPUNIT_ASSERT_EQUAL(std::size_t(7), failures.size());
        std::string garbage = reasonFor(failures, "garbage");
        CPPUNIT_ASSERT_MESSAGE(
            garbage, contains(garbage, "invalid ELF header") || contains(garbage, "file too short"));
        CPPUNIT_ASSERT_EQUAL(std::string("not a Berth plugin: no berth_plugin_entry_v1 symbol"),
                             reasonFor(failures, "not_a_plugin"));
        CPPUNIT_ASSERT_EQUAL(std::string("plugin ABI version 999, this berthd expects 1"),
                             reasonFor(failures, "wrong_abi"));
        CPPUNIT_ASSERT(
            contains(reasonFor(failures, "wrong_signature"), "rebuild the plugin against this SDK"));
        CPPUNIT_ASSERT_EQUAL(std::string("configure() failed: configure exploded on purpose"),
                             reasonFor(failures, "throws_in_configure"));
        CPPUNIT_ASSERT_EQUAL(std::string("start() failed: start exploded on purpose"),
                             reasonFor(failures, "throws_in_start"));
        CPPUNIT_ASSERT_EQUAL(std::string("requires plugin 'ghost', which is not loaded"),
                             reasonFor(failures, "needs_missing"));
        // Only hello is mounted; the route throws_in_start registered before throwing is not served.
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), table_->mounts().size());
        CPPUNIT_ASSERT_EQUAL(std::string("/hello"), table_->mounts()[0].prefix);
        CPPUNIT_ASSERT(lookup(*table_, Method::Get, "/throws_in_start/ping") == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(*table_, Method::Get, "/needs_missing/ping") == Outcome::NotFound);
        CPPUNIT_ASSERT(log_->contains("ABI 1 matched"));
        CPPUNIT_ASSERT(log_->contains("skipped"));
    }

    void testFailureDescriptions() {
        std::string garbage = copy(fixture("garbage.so"), "garbage.so");
        std::string needs = copy(fixture("needs_missing.so"), "needs_missing.so");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), manager.failures().size());
        const PluginFailure& unnamed = manager.failures()[0];
        CPPUNIT_ASSERT_EQUAL(canonical(garbage), unnamed.file);
        CPPUNIT_ASSERT(unnamed.plugin.empty());
        CPPUNIT_ASSERT_EQUAL("plugin file " + canonical(garbage) + ": " + unnamed.reason, unnamed.describe());
        const PluginFailure& named = manager.failures()[1];
        CPPUNIT_ASSERT_EQUAL(std::string("needs_missing"), named.plugin);
        CPPUNIT_ASSERT_EQUAL(
            "plugin 'needs_missing' (" + canonical(needs) + "): requires plugin 'ghost', which is not loaded",
            named.describe());
    }

    void testDescribe() {
        std::string hello = copy(pluginFile("hello.so"), "hello.so");
        PluginManager& manager = make();
        manager.startAll();
        Json list = manager.describe();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), list.size());
        const Json& entry = list.at(0);
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), entry["name"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"), entry["version"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("/hello"), entry["prefix"].asString());
        CPPUNIT_ASSERT_EQUAL(canonical(hello), entry["file"].asString());
        const Json& routes = entry["routes"];
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), routes.size());
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"method":"GET","path":"/hello/greet/<name>","summary":"Greets <name>"})"),
            routes.at(0).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("POST"), routes.at(1)["method"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("/hello/echo"), routes.at(1)["path"].asString());
    }

    void testStartedRoutesServe() {
        copy(pluginFile("hello.so"), "hello.so");
        PluginManager& manager = make();
        manager.startAll();
        RouteTable::Lookup out;
        std::vector<std::string> scratch;
        table_->find(Method::Get, "/hello/greet/ann", out, scratch);
        CPPUNIT_ASSERT(out.outcome == Outcome::Found);
        HostRequest request;
        request.setParams(std::move(out.params));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"greeting":"Hello, ann!"})"),
                             out.route->handler(request).data().dump());
    }

    void testDuplicateNameRefused() {
        std::string hello = copy(pluginFile("hello.so"), "hello.so");
        std::string impostor = copy(fixture("duplicate_hello.so"), "zz_duplicate_hello.so");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), manager.startedCount());
        CPPUNIT_ASSERT_EQUAL(std::string("1.0.0"),
                             manager.describe().at(0)["version"].asString());  // the first file wins
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), manager.failures().size());
        const PluginFailure& failure = manager.failures()[0];
        CPPUNIT_ASSERT_EQUAL(canonical(impostor), failure.file);
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), failure.plugin);
        CPPUNIT_ASSERT_EQUAL("a plugin named 'hello' is already loaded from " + canonical(hello),
                             failure.reason);
    }

    void testPrefixClashWithPlugin() {
        copy(pluginFile("hello.so"), "hello.so");
        copy(fixture("clasher.so"), "zz_clasher.so");
        writeFile(conf_ + "/clasher.properties", "prefix = /hello\n");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT(startedNames(manager) == std::vector<std::string>({"hello"}));
        CPPUNIT_ASSERT_EQUAL(std::string("prefix /hello clashes with plugin 'hello'"),
                             reasonFor(manager.failures(), "clasher"));
        // A nested prefix clashes as well.
        writeFile(conf_ + "/clasher.properties", "prefix = /hello/inner\n");
        manager.stopAll();
        PluginManager& again = make();
        again.startAll();
        CPPUNIT_ASSERT_EQUAL(std::string("prefix /hello/inner clashes with plugin 'hello'"),
                             reasonFor(again.failures(), "clasher"));
    }

    void testPrefixClashWithHost() {
        copy(fixture("clasher.so"), "clasher.so");
        writeFile(conf_ + "/clasher.properties", "prefix = /health\n");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT_EQUAL(std::string("prefix /health clashes with a host endpoint of berthd"),
                             reasonFor(manager.failures(), "clasher"));
    }

    void testRequirementStartsFirst() {
        // File order alone would start order_dependent first.
        copy(fixture("order_dependent.so"), "order_dependent.so");
        copy(fixture("order_base.so"), "zz_order_base.so");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT(manager.failures().empty());
        CPPUNIT_ASSERT(startedNames(manager) == std::vector<std::string>({"order_base", "order_dependent"}));
        // Stopped in reverse: the dependent before what it requires.
        manager.stopAll();
        auto at = [&](const std::string& line) {
            for (std::size_t i = 0; i < log_->lines.size(); ++i)
                if (log_->lines[i] == line) return i;
            CPPUNIT_FAIL("not logged: " + line);
            return std::size_t(0);
        };
        CPPUNIT_ASSERT(at("plugin 'order_dependent' stopped") < at("plugin 'order_base' stopped"));
    }

    void testDependentOfFailedPluginRefused() {
        copy(pluginFile("hello.so"), "hello.so");
        copy(fixture("order_dependent.so"), "order_dependent.so");
        copy(fixture("order_base.so"), "zz_order_base.so");
        writeFile(conf_ + "/order_base.properties", "prefix = /hello\n");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT(startedNames(manager) == std::vector<std::string>({"hello"}));
        CPPUNIT_ASSERT_EQUAL(std::string("prefix /hello clashes with plugin 'hello'"),
                             reasonFor(manager.failures(), "order_base"));
        CPPUNIT_ASSERT_EQUAL(std::string("requires plugin 'order_base', which failed to start"),
                             reasonFor(manager.failures(), "order_dependent"));
    }

    void testBadSettingFailsConfigure() {
        copy(fixture("bad_setting.so"), "bad_setting.so");
        writeFile(conf_ + "/bad_setting.properties", "limit = ten\n");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT_EQUAL(
            "configure() failed: " + conf_ + "/bad_setting.properties: limit = 'ten' is not an integer",
            reasonFor(manager.failures(), "bad_setting"));
    }

    void testGoodSettingReachesPlugin() {
        copy(fixture("bad_setting.so"), "bad_setting.so");
        writeFile(conf_ + "/bad_setting.properties", "limit = 5\n");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), manager.startedCount());
        RouteTable::Lookup out;
        std::vector<std::string> scratch;
        table_->find(Method::Get, "/bad_setting/limit", out, scratch);
        CPPUNIT_ASSERT(out.outcome == Outcome::Found);
        HostRequest request;
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), out.route->handler(request).data().asInt());
    }

    void testDisabledPluginSkippedQuietly() {
        copy(pluginFile("hello.so"), "hello.so");
        writeFile(conf_ + "/hello.properties", "enabled = false\n");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT(manager.failures().empty());
        CPPUNIT_ASSERT(table_->mounts().empty());
        CPPUNIT_ASSERT(log_->contains("disabled by"));
    }

    void testBadPluginSettingsRefused() {
        copy(pluginFile("hello.so"), "hello.so");
        writeFile(conf_ + "/hello.properties", "enabled = maybe\nprefix = bad prefix\n");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        std::string reason = reasonFor(manager.failures(), "hello");
        CPPUNIT_ASSERT_MESSAGE(reason, contains(reason, "enabled = 'maybe' is not a boolean"));
        CPPUNIT_ASSERT_MESSAGE(reason, contains(reason, "; "));
        CPPUNIT_ASSERT_MESSAGE(reason, contains(reason, "prefix 'bad prefix'"));
    }

    void testPrefixOverride() {
        copy(pluginFile("hello.so"), "hello.so");
        writeFile(conf_ + "/hello.properties", "prefix = /api/greetings\n");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::string("/api/greetings"), manager.describe().at(0)["prefix"].asString());
        CPPUNIT_ASSERT(lookup(*table_, Method::Get, "/api/greetings/greet/x") == Outcome::Found);
        CPPUNIT_ASSERT(lookup(*table_, Method::Get, "/hello/greet/x") == Outcome::NotFound);
    }

    void testAbortOnLoadFailure() {
        std::string garbage = copy(fixture("garbage.so"), "garbage.so");
        copy(pluginFile("hello.so"), "hello.so");
        PluginManager& manager = make(true);
        std::string message = berth::test::thrownMessage<PluginStartupError>([&] { manager.startAll(); });
        CPPUNIT_ASSERT_MESSAGE(
            message, message.rfind("plugin file " + canonical(garbage) + ": cannot be loaded", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(message, contains(message, "(plugins.on_failure = abort)"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT(table_->mounts().empty());
    }

    void testAbortOnStartFailure() {
        copy(pluginFile("hello.so"), "hello.so");
        std::string throwing = copy(fixture("throws_in_start.so"), "throws_in_start.so");
        PluginManager& manager = make(true);
        std::string message = berth::test::thrownMessage<PluginStartupError>([&] { manager.startAll(); });
        CPPUNIT_ASSERT_EQUAL("plugin 'throws_in_start' (" + canonical(throwing) +
                                 "): start() failed: start exploded on purpose (plugins.on_failure = abort)",
                             message);
        manager.stopAll();  // what berthd does next: everything started so far is stopped and unmounted
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT(table_->mounts().empty());
    }

    void testStopAllUnmounts() {
        copy(pluginFile("hello.so"), "hello.so");
        copy(fixture("order_base.so"), "order_base.so");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), manager.startedCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), table_->mounts().size());
        manager.stopAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT(table_->mounts().empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.describe().size());
        CPPUNIT_ASSERT(lookup(*table_, Method::Get, "/hello/greet/x") == Outcome::NotFound);
        CPPUNIT_ASSERT(log_->contains("plugin 'hello' stopped"));
        manager.stopAll();  // twice is harmless
    }

    void testThrowingConstructorSkipped() {
        copy(pluginFile("hello.so"), "hello.so");
        copy(fixture("throws_in_constructor.so"), "throws_in_constructor.so");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::string("constructor failed: constructor exploded on purpose"),
                             reasonFor(manager.failures(), "throws_in_constructor"));
        CPPUNIT_ASSERT(startedNames(manager) == std::vector<std::string>{"hello"});
    }

    void testThrowingStopLoggedAndSurvived() {
        copy(fixture("throws_in_stop.so"), "throws_in_stop.so");
        copy(fixture("order_base.so"), "order_base.so");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), manager.startedCount());
        manager.stopAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT(log_->contains("stop() failed: stop exploded on purpose"));
        // The other plugin is still stopped in order, and unmounted.
        CPPUNIT_ASSERT(log_->contains("plugin 'order_base' stopped"));
        CPPUNIT_ASSERT(table_->mounts().empty());
    }

    // Under abort, a later failure must not leave the plugins started before it running.
    void testAbortStopsWhatAlreadyStarted() {
        copy(pluginFile("hello.so"), "a_hello.so");
        copy(fixture("throws_in_start.so"), "z_throws_in_start.so");
        {
            PluginManager& manager = make(true);
            berth::test::thrownMessage<PluginStartupError>([&] { manager.startAll(); });
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), manager.startedCount());
            manager_.reset();  // what berthd does when start-up is refused: the manager goes away
        }
        CPPUNIT_ASSERT(log_->contains("plugin 'hello' stopped"));
        CPPUNIT_ASSERT(table_->mounts().empty());
    }

    void testMissingPluginsDir() {
        PluginManager& manager = make(false, dir_->file("no-such-dir"));
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), manager.failures().size());
        CPPUNIT_ASSERT(contains(manager.failures()[0].reason, "plugins.dir cannot be read"));
        PluginManager& aborting = make(true, dir_->file("no-such-dir"));
        CPPUNIT_ASSERT_THROW(aborting.startAll(), PluginStartupError);
    }

    void testEmptyDirAndNonPluginFiles() {
        writeFile(plugins_ + "/readme.txt", "not a plugin");
        writeFile(plugins_ + "/hello.so.bak", "old");
        dir_->subdir("plugins/folder.so");
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT(manager.failures().empty());
        CPPUNIT_ASSERT(log_->contains("no plugin files"));
    }

    void testSymlinkLoadedOnce() {
        std::string hello = copy(pluginFile("hello.so"), "hello.so");
        CPPUNIT_ASSERT_EQUAL(0, ::symlink(hello.c_str(), (plugins_ + "/alias.so").c_str()));
        PluginManager& manager = make();
        manager.startAll();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), manager.startedCount());
        CPPUNIT_ASSERT(manager.failures().empty());
    }

    void testCheckReportsWithoutRunning() {
        copy(pluginFile("hello.so"), "hello.so");
        copy(fixture("duplicate_hello.so"), "zz_duplicate_hello.so");
        copy(fixture("garbage.so"), "garbage.so");
        copy(fixture("needs_missing.so"), "needs_missing.so");
        copy(fixture("throws_in_configure.so"), "throws_in_configure.so");  // not run: no problem here
        copy(fixture("throws_in_start.so"), "throws_in_start.so");
        copy(fixture("clasher.so"), "clasher.so");
        writeFile(conf_ + "/clasher.properties", "prefix = /health\n");
        PluginManager& manager = make();
        std::vector<std::string> problems = manager.check();
        std::string all;
        for (const std::string& problem : problems) all += "\n  " + problem;
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all, std::size_t(4), problems.size());
        auto mentions = [&](const std::string& text) {
            for (const std::string& problem : problems)
                if (contains(problem, text)) return true;
            return false;
        };
        CPPUNIT_ASSERT_MESSAGE(all, mentions("garbage.so: cannot be loaded"));
        CPPUNIT_ASSERT_MESSAGE(all, mentions("a plugin named 'hello' is already loaded"));
        CPPUNIT_ASSERT_MESSAGE(all, mentions("plugin 'needs_missing'"));
        CPPUNIT_ASSERT_MESSAGE(all, mentions("plugin 'clasher'"));
        CPPUNIT_ASSERT_MESSAGE(all, mentions("prefix /health clashes with a host endpoint of berthd"));
        // Nothing was started or mounted, and a second check reports the same.
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), manager.startedCount());
        CPPUNIT_ASSERT(table_->mounts().empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), manager.check().size());
    }

    void testCheckIgnoresAbort() {
        copy(fixture("garbage.so"), "garbage.so");
        copy(pluginFile("hello.so"), "hello.so");
        copy(fixture("clasher.so"), "zz_clasher.so");
        writeFile(conf_ + "/clasher.properties", "prefix = /hello\n");
        PluginManager& manager = make(true);
        std::vector<std::string> problems;
        CPPUNIT_ASSERT_NO_THROW(problems = manager.check());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), problems.size());
        CPPUNIT_ASSERT(contains(problems[1], "prefix /hello clashes with plugin 'hello'"));
        // abort mode still applies to startAll afterwards.
        CPPUNIT_ASSERT_THROW(manager.startAll(), PluginStartupError);
    }

  private:
    std::string copy(const std::string& source, const std::string& as) {
        return copyInto(source, plugins_, as);
    }

    PluginManager& make(bool abort = false, const std::string& pluginsDir = "") {
        manager_.reset();
        manager_ = std::make_unique<PluginManager>(
            PluginManagerSettings{pluginsDir.empty() ? plugins_ : pluginsDir, conf_, abort}, *table_,
            *logger_);
        return *manager_;
    }

    Poco::AutoPtr<CaptureChannel> log_;
    Poco::Logger* logger_ = nullptr;
    std::unique_ptr<TempDir> dir_;
    std::string plugins_;
    std::string conf_;
    std::unique_ptr<RouteTable> table_;
    std::unique_ptr<PluginManager> manager_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginManagerTest);
