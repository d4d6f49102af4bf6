// berthd with real plugin folders: every kind of broken plugin next to good ones (skip and abort
// policies), dependency order, per-plugin settings (enabled, prefix) and a clean shutdown.
#include <Poco/JSON/Array.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "http_probe.h"

namespace berth::test {
namespace {

/// A fixture plugin that berthd must refuse, and what its log line must say.
struct BrokenPlugin {
    std::string fixture;              ///< tests/fixtures/<fixture>.cpp
    std::string fileName;             ///< its name in plugins/
    std::string settingsFor;          ///< plugins.d/<settingsFor>.properties, when settings is set
    std::string settings;             ///< that file's text
    std::vector<std::string> reason;  ///< fragments of the refusal, besides the file path
};

std::vector<BrokenPlugin> brokenPlugins(const BerthdProcess& berthd) {
    const std::string helloFile = berthd.path("plugins/hello.so");
    const std::string badSettings = berthd.path("plugins.d/bad_setting.properties");
    return {
        {"garbage", "garbage.so", "", "", {"plugin file ", "invalid ELF header"}},
        {"not_a_plugin",
         "not_a_plugin.so",
         "",
         "",
         {"plugin file ", "not a Berth plugin: no berth_plugin_entry_v1 symbol"}},
        {"wrong_abi",
         "wrong_abi.so",
         "",
         "",
         {"plugin file ", "plugin ABI version 999, this berthd expects 1"}},
        {"wrong_signature",
         "wrong_signature.so",
         "",
         "",
         {"plugin file ", "built as 'abi=1;sdk=0;cc=gcc;libstdc++=7;", "', this berthd is '"}},
        {"throws_in_configure",
         "throws_in_configure.so",
         "",
         "",
         {"plugin 'throws_in_configure' (", "configure() failed: configure exploded on purpose"}},
        {"throws_in_start",
         "throws_in_start.so",
         "",
         "",
         {"plugin 'throws_in_start' (", "start() failed: start exploded on purpose"}},
        {"needs_missing",
         "needs_missing.so",
         "",
         "",
         {"plugin 'needs_missing' (", "requires plugin 'ghost', which is not loaded"}},
        {"duplicate_hello",
         "zz_duplicate_hello.so",
         "",
         "",
         {"plugin 'hello' (", "a plugin named 'hello' is already loaded from " + helloFile}},
        {"clasher",
         "zz_clasher.so",
         "clasher",
         "prefix = /hello\n",
         {"plugin 'clasher' (", "prefix /hello clashes with plugin 'hello'"}},
        {"bad_setting",
         "bad_setting.so",
         "bad_setting",
         "limit = ten\n",
         {"plugin 'bad_setting' (", "configure() failed: ", badSettings, "limit", "ten"}},
    };
}

void addBroken(BerthdProcess& berthd, const BrokenPlugin& broken) {
    berthd.addFixture(broken.fixture, broken.fileName);
    if (!broken.settings.empty()) berthd.writePluginSettings(broken.settingsFor, broken.settings);
}

std::vector<std::string> withFile(const BerthdProcess& berthd, const BrokenPlugin& broken,
                                  const std::string& tail) {
    std::vector<std::string> needles{berthd.path("plugins/" + broken.fileName)};
    needles.insert(needles.end(), broken.reason.begin(), broken.reason.end());
    needles.push_back(tail);
    return needles;
}

/// "GET /hello/greet/<name> — Greets <name>" for each route of a /plugins entry, checking
/// that a route has exactly method, path and (optionally) summary.
std::set<std::string> routeLines(const Poco::JSON::Array::Ptr& routes) {
    std::set<std::string> lines;
    for (std::size_t i = 0; i < routes->size(); ++i) {
        Poco::JSON::Object::Ptr route = routes->getObject(static_cast<unsigned>(i));
        std::string line =
            route->getValue<std::string>("method") + " " + route->getValue<std::string>("path");
        if (route->has("summary")) {
            E2E_ASSERT_KEYS(route, "method", "path", "summary");
            line += " — " + route->getValue<std::string>("summary");
        } else {
            E2E_ASSERT_KEYS(route, "method", "path");
        }
        lines.insert(line);
    }
    CPPUNIT_ASSERT_EQUAL_MESSAGE("duplicate route entries", routes->size(), lines.size());
    return lines;
}

void assertPluginEntry(const Poco::JSON::Object::Ptr& entry, const std::string& name,
                       const std::string& version, const std::string& prefix, const std::string& file,
                       const std::set<std::string>& routes) {
    E2E_ASSERT_KEYS(entry, "name", "version", "prefix", "file", "routes");
    CPPUNIT_ASSERT_EQUAL(name, entry->getValue<std::string>("name"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(name + " version", version, entry->getValue<std::string>("version"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(name + " prefix", prefix, entry->getValue<std::string>("prefix"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(name + " file", file, entry->getValue<std::string>("file"));
    std::set<std::string> actual = routeLines(entry->getArray("routes"));
    std::string expectedText, actualText;
    for (const std::string& r : routes) expectedText += "\n  " + r;
    for (const std::string& r : actual) actualText += "\n  " + r;
    CPPUNIT_ASSERT_EQUAL_MESSAGE(name + " routes", expectedText, actualText);
}

std::set<std::string> helloRoutes(const std::string& prefix) {
    return {
        "GET " + prefix + "/greet/<name> — Greets <name>",
        "POST " + prefix + "/echo — Returns the JSON body as data",
        "GET " + prefix + "/numbers/<n:int> — Echoes a 64-bit integer path parameter",
        "GET " + prefix + "/error — Always fails with an ApiError (422)",
        "GET " + prefix + "/crash — Always throws std::runtime_error (500)",
    };
}

Poco::JSON::Array::Ptr pluginList(int port) {
    HttpResult plugins = HttpProbe(port).get("/plugins");
    E2E_ASSERT_STATUS(200, plugins);
    Poco::JSON::Object::Ptr envelope = plugins.json();
    E2E_ASSERT_KEYS(envelope, "status", "code", "message", "data");
    CPPUNIT_ASSERT(envelope->getValue<bool>("status"));
    return envelope->getArray("data");
}

std::string pluginNames(const Poco::JSON::Array::Ptr& list) {
    std::string names;
    for (std::size_t i = 0; i < list->size(); ++i)
        names +=
            (i == 0 ? "" : ",") + list->getObject(static_cast<unsigned>(i))->getValue<std::string>("name");
    return names;
}

}  // namespace

class PluginLoadingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PluginLoadingTest);
    CPPUNIT_TEST(testSkipPolicyListsOnlyGoodPluginsInDependencyOrder);
    CPPUNIT_TEST(testSkipPolicyLogsEveryRefusalWithFileAndReason);
    CPPUNIT_TEST(testRefusedPluginsServeNoRoutes);
    CPPUNIT_TEST(testAbortPolicyRefusesToStartForEachBrokenPlugin);
    CPPUNIT_TEST(testRequirementDecidesStartOrderNotFileName);
    CPPUNIT_TEST(testDisabledPluginIsNotLoaded);
    CPPUNIT_TEST(testPrefixOverrideFromPluginSettings);
    CPPUNIT_TEST(testSigtermStopsCleanlyInReverseOrder);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override { berthd_ = std::make_unique<BerthdProcess>(); }
    void tearDown() override { berthd_.reset(); }

    /// hello.so, order_dependent.so, zz_order_base.so and every broken fixture in one folder.
    void startWithEveryBrokenPlugin() {
        berthd_->addHelloPlugin();
        berthd_->addFixture("order_dependent");
        berthd_->addFixture("order_base", "zz_order_base.so");
        for (const BrokenPlugin& broken : brokenPlugins(*berthd_)) addBroken(*berthd_, broken);
        berthd_->set("plugins.on_failure", "skip");
        berthd_->start();
    }

    void testSkipPolicyListsOnlyGoodPluginsInDependencyOrder() {
        startWithEveryBrokenPlugin();
        E2E_ASSERT_HEALTHY(berthd_->port());
        Poco::JSON::Array::Ptr list = pluginList(berthd_->port());
        CPPUNIT_ASSERT_EQUAL(std::string("hello,order_base,order_dependent"), pluginNames(list));
        // The real hello (1.0.0), not zz_duplicate_hello.so's impostor (0.0.1).
        assertPluginEntry(list->getObject(0), "hello", "1.0.0", "/hello", berthd_->path("plugins/hello.so"),
                          helloRoutes("/hello"));
        assertPluginEntry(list->getObject(1), "order_base", "1.0.0", "/order_base",
                          berthd_->path("plugins/zz_order_base.so"), {"GET /order_base/ping"});
        assertPluginEntry(list->getObject(2), "order_dependent", "1.0.0", "/order_dependent",
                          berthd_->path("plugins/order_dependent.so"), {"GET /order_dependent/ping"});
    }

    void testSkipPolicyLogsEveryRefusalWithFileAndReason() {
        startWithEveryBrokenPlugin();
        const std::string log = berthd_->log();
        for (const BrokenPlugin& broken : brokenPlugins(*berthd_))
            E2E_ASSERT_LINE_WITH(log, withFile(*berthd_, broken, "; skipped"));
        // None of them got as far as a start.
        for (const char* name :
             {"throws_in_configure", "throws_in_start", "needs_missing", "clasher", "bad_setting"})
            E2E_ASSERT_NOT_CONTAINS(log, "plugin '" + std::string(name) + "' 1.0.0 started");
        E2E_ASSERT_CONTAINS(log, "plugin 'hello' 1.0.0 started under /hello");
    }

    void testRefusedPluginsServeNoRoutes() {
        startWithEveryBrokenPlugin();
        HttpProbe http(berthd_->port());
        // throws_in_start registered /ping before throwing: the route must not be mounted.
        for (const char* path : {"/throws_in_start/ping", "/needs_missing/ping", "/clasher/ping",
                                 "/hello/ping", "/bad_setting/limit"}) {
            HttpResult r = http.get(path);
            E2E_ASSERT_STATUS(404, r);
            CPPUNIT_ASSERT_EQUAL(404, r.json()->getValue<int>("code"));
        }
        HttpResult greet = http.get("/hello/greet/x");
        E2E_ASSERT_STATUS(200, greet);
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"greeting":"Hello, x!"}})"),
            greet.body);
        HttpResult base = http.get("/order_base/ping");
        E2E_ASSERT_STATUS(200, base);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":"base"})"),
                             base.body);
        HttpResult dependent = http.get("/order_dependent/ping");
        E2E_ASSERT_STATUS(200, dependent);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":"dependent"})"),
                             dependent.body);
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testAbortPolicyRefusesToStartForEachBrokenPlugin() {
        const std::size_t count = brokenPlugins(*berthd_).size();
        for (std::size_t i = 0; i < count; ++i) {
            BerthdProcess berthd;
            const BrokenPlugin broken = brokenPlugins(berthd)[i];  // paths inside this folder
            berthd.addHelloPlugin();
            addBroken(berthd, broken);
            const int port = pickFreePort();
            berthd.set("server.port", std::to_string(port));
            berthd.set("plugins.on_failure", "abort");
            RunResult run = berthd.run({"--config", berthd.configFile()});
            const std::string output = run.output();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(
                broken.fixture + ": exit status (70 = EXIT_SOFTWARE); output:\n" + output, 70, run.exitCode);
            E2E_ASSERT_LINE_WITH(output, withFile(berthd, broken, "(plugins.on_failure = abort)"));
            E2E_ASSERT_NOT_CONTAINS(output, "listening on");
            CPPUNIT_ASSERT_MESSAGE(broken.fixture + ": something listens on the port",
                                   !acceptsConnections(port));
        }
    }

    void testRequirementDecidesStartOrderNotFileName() {
        // order_dependent.so sorts before zz_order_base.so, but requires order_base.
        berthd_->addFixture("order_dependent");
        berthd_->addFixture("order_base", "zz_order_base.so");
        berthd_->start();
        CPPUNIT_ASSERT_EQUAL(std::string("order_base,order_dependent"),
                             pluginNames(pluginList(berthd_->port())));
        const std::string log = berthd_->log();
        std::size_t base = log.find("plugin 'order_base' 1.0.0 started");
        std::size_t dependent = log.find("plugin 'order_dependent' 1.0.0 started");
        CPPUNIT_ASSERT_MESSAGE(log, base != std::string::npos && dependent != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE("order_base must start first:\n" + log, base < dependent);
    }

    void testDisabledPluginIsNotLoaded() {
        berthd_->addHelloPlugin();
        berthd_->addFixture("order_base");
        berthd_->writePluginSettings("hello", "enabled = false\ngreeting = Howdy\n");
        berthd_->start();
        CPPUNIT_ASSERT_EQUAL(std::string("order_base"), pluginNames(pluginList(berthd_->port())));
        HttpResult greet = HttpProbe(berthd_->port()).get("/hello/greet/x");
        E2E_ASSERT_STATUS(404, greet);
        const std::string log = berthd_->log();
        E2E_ASSERT_LINE_WITH(log, "plugin 'hello'", berthd_->path("plugins/hello.so"), "disabled");
        E2E_ASSERT_NOT_CONTAINS(log, "greeting is");  // not even configured
    }

    void testPrefixOverrideFromPluginSettings() {
        berthd_->addHelloPlugin();
        berthd_->writePluginSettings("hello", "prefix = /api/hi\n");
        berthd_->start();
        HttpProbe http(berthd_->port());
        HttpResult greet = http.get("/api/hi/greet/x");
        E2E_ASSERT_STATUS(200, greet);
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"greeting":"Hello, x!"}})"),
            greet.body);
        E2E_ASSERT_STATUS(404, http.get("/hello/greet/x"));
        E2E_ASSERT_STATUS(404, http.get("/api/greet/x"));
        Poco::JSON::Array::Ptr list = pluginList(berthd_->port());
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), pluginNames(list));
        assertPluginEntry(list->getObject(0), "hello", "1.0.0", "/api/hi", berthd_->path("plugins/hello.so"),
                          helloRoutes("/api/hi"));
    }

    void testSigtermStopsCleanlyInReverseOrder() {
        berthd_->addHelloPlugin();
        berthd_->addFixture("order_dependent");
        berthd_->addFixture("order_base", "zz_order_base.so");
        berthd_->start();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(berthd_->log(), 0, berthd_->stop());
        const std::string log = berthd_->log();
        std::size_t dependent = log.find("plugin 'order_dependent' stopped");
        std::size_t base = log.find("plugin 'order_base' stopped");
        CPPUNIT_ASSERT_MESSAGE(log, log.find("plugin 'hello' stopped") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(
            "a plugin stops before the ones it requires:\n" + log,
            dependent != std::string::npos && base != std::string::npos && dependent < base);
        CPPUNIT_ASSERT_MESSAGE("berthd still accepts connections after exiting",
                               !acceptsConnections(berthd_->port()));
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginLoadingTest);

}  // namespace berth::test
