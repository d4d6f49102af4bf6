// ServerConfig::load: defaults, values read, every problem collected at once (types, ranges,
// unknown keys, on_failure, CORS origins), relative paths resolved against the conf folder.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <set>
#include <string>
#include <vector>

#include "app/server_config.h"
#include "test_helpers.h"

using berth::server::ServerConfig;
using berth::test::contains;
using Poco::Util::MapConfiguration;
using Problems = std::vector<std::string>;

namespace {

const std::string kConfDir = "/etc/berth";

ServerConfig load(std::initializer_list<std::pair<const char*, const char*>> values, Problems& problems) {
    Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
    for (const auto& [key, value] : values) config->setString(key, value);
    return ServerConfig::load(*config, kConfDir, problems);
}

// The one problem that mentions `needle`; fails unless exactly one does.
std::string problemAbout(const Problems& problems, const std::string& needle) {
    std::string found;
    int count = 0;
    for (const std::string& problem : problems)
        if (contains(problem, needle)) found = problem, ++count;
    std::string all;
    for (const std::string& problem : problems) all += "\n  " + problem;
    CPPUNIT_ASSERT_EQUAL_MESSAGE("problems mentioning '" + needle + "':" + all, 1, count);
    return found;
}

}  // namespace

class ServerConfigTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ServerConfigTest);
    CPPUNIT_TEST(testDefaults);
    CPPUNIT_TEST(testValuesRead);
    CPPUNIT_TEST(testEveryProblemAtOnce);
    CPPUNIT_TEST(testNotAnInteger);
    CPPUNIT_TEST(testRangeBoundaries);
    CPPUNIT_TEST(testThousandsSeparatorIsNotAnInteger);
    CPPUNIT_TEST(testUnknownKeys);
    CPPUNIT_TEST(testOtherSectionsIgnored);
    CPPUNIT_TEST(testRelativePathsResolved);
    CPPUNIT_TEST(testOnFailure);
    CPPUNIT_TEST(testBooleans);
    CPPUNIT_TEST(testCorsLists);
    CPPUNIT_TEST(testCorsOriginWithoutScheme);
    CPPUNIT_TEST(testEmptyAddress);
    CPPUNIT_TEST(testUndefinedVariableIsAProblem);
    CPPUNIT_TEST(testShippedConfigurationIsClean);
    CPPUNIT_TEST(testShippedConfigurationDocumentsEveryKey);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testDefaults() {
        Problems problems;
        ServerConfig c = load({}, problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), c.engine.address);
        CPPUNIT_ASSERT_EQUAL(8080, c.engine.port);
        CPPUNIT_ASSERT_EQUAL(16, c.engine.workerThreads);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1024), c.engine.maxQueued);
        CPPUNIT_ASSERT_EQUAL(15000, c.engine.idleTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/berth/plugins"), c.plugins.pluginsDir);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/berth/plugins.d"), c.plugins.confDir);
        CPPUNIT_ASSERT(!c.plugins.abortOnFailure);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1024 * 1024), c.limits.maxBodyBytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(16 * 1024), c.limits.maxHeaderBytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), c.limits.maxHeaderCount);
        CPPUNIT_ASSERT(c.cors.allowedOrigins.empty());
        CPPUNIT_ASSERT(c.cors.allowedMethods ==
                       std::vector<std::string>({"GET", "POST", "PUT", "PATCH", "DELETE"}));
        CPPUNIT_ASSERT(!c.cors.allowCredentials);
        CPPUNIT_ASSERT_EQUAL(600, c.cors.maxAgeSeconds);
    }

    void testValuesRead() {
        Problems problems;
        ServerConfig c = load({{"server.address", " 0.0.0.0 "},
                               {"server.port", "0"},
                               {"server.worker_threads", "4"},
                               {"server.max_queued", "10"},
                               {"server.keep_alive_timeout", "3600"},
                               {"plugins.dir", "/opt/berth/plugins"},
                               {"plugins.conf_dir", "/opt/berth/conf.d"},
                               {"plugins.on_failure", "abort"},
                               {"http.max_body_bytes", "0"},
                               {"http.max_header_bytes", "256"},
                               {"http.max_header_count", "100"},
                               {"cors.allowed_origins", "https://a.example, http://b.example:8080"},
                               {"cors.allow_credentials", "true"},
                               {"cors.max_age", "86400"}},
                              problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), problems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), c.engine.address);  // trimmed
        CPPUNIT_ASSERT_EQUAL(0, c.engine.port);
        CPPUNIT_ASSERT_EQUAL(4, c.engine.workerThreads);
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), c.engine.maxQueued);
        CPPUNIT_ASSERT_EQUAL(3600000, c.engine.idleTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(std::string("/opt/berth/plugins"), c.plugins.pluginsDir);
        CPPUNIT_ASSERT_EQUAL(std::string("/opt/berth/conf.d"), c.plugins.confDir);
        CPPUNIT_ASSERT(c.plugins.abortOnFailure);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), c.limits.maxBodyBytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(256), c.limits.maxHeaderBytes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(100), c.limits.maxHeaderCount);
        CPPUNIT_ASSERT(c.cors.allowedOrigins ==
                       std::vector<std::string>({"https://a.example", "http://b.example:8080"}));
        CPPUNIT_ASSERT(c.cors.allowCredentials);
        CPPUNIT_ASSERT_EQUAL(86400, c.cors.maxAgeSeconds);
    }

    void testEveryProblemAtOnce() {
        Problems problems;
        ServerConfig c = load({{"server.port", "eighty"},
                               {"server.worker_threads", "0"},
                               {"server.max_queued", "1000001"},
                               {"server.keep_alive_timeout", "-1"},
                               {"server.prot", "80"},
                               {"plugins.on_failure", "maybe"},
                               {"plugins.directory", "x"},
                               {"http.max_body_bytes", "1073741825"},
                               {"http.max_header_bytes", "255"},
                               {"http.max_header_count", "10001"},
                               {"http.max_headers", "1"},
                               {"cors.allowed_origins", "app.example.com"},
                               {"cors.allow_credentials", "perhaps"},
                               {"cors.max_age", "86401"},
                               {"cors.allow_origin", "*"}},
                              problems);
        CPPUNIT_ASSERT_EQUAL(std::string("server.port = 'eighty' is not an integer"),
                             problemAbout(problems, "server.port"));
        CPPUNIT_ASSERT_EQUAL(std::string("server.worker_threads = 0 is out of range [1, 1024]"),
                             problemAbout(problems, "server.worker_threads"));
        CPPUNIT_ASSERT_EQUAL(std::string("server.max_queued = 1000001 is out of range [1, 1000000]"),
                             problemAbout(problems, "server.max_queued"));
        CPPUNIT_ASSERT_EQUAL(std::string("server.keep_alive_timeout = -1 is out of range [1, 3600]"),
                             problemAbout(problems, "server.keep_alive_timeout"));
        CPPUNIT_ASSERT(contains(problemAbout(problems, "server.prot "), "is not a berthd setting"));
        CPPUNIT_ASSERT_EQUAL(std::string("plugins.on_failure = 'maybe' must be 'skip' or 'abort'"),
                             problemAbout(problems, "plugins.on_failure"));
        CPPUNIT_ASSERT(contains(problemAbout(problems, "plugins.directory"), "is not a berthd setting"));
        CPPUNIT_ASSERT_EQUAL(std::string("http.max_body_bytes = 1073741825 is out of range [0, 1073741824]"),
                             problemAbout(problems, "http.max_body_bytes"));
        CPPUNIT_ASSERT_EQUAL(std::string("http.max_header_bytes = 255 is out of range [256, 1048576]"),
                             problemAbout(problems, "http.max_header_bytes"));
        CPPUNIT_ASSERT_EQUAL(std::string("http.max_header_count = 10001 is out of range [1, 10000]"),
                             problemAbout(problems, "http.max_header_count"));
        CPPUNIT_ASSERT(contains(problemAbout(problems, "http.max_headers "), "is not a berthd setting"));
        CPPUNIT_ASSERT(contains(problemAbout(problems, "'app.example.com'"), "is not an origin"));
        CPPUNIT_ASSERT_EQUAL(std::string("cors.allow_credentials = 'perhaps' is not a boolean (true/false)"),
                             problemAbout(problems, "cors.allow_credentials"));
        CPPUNIT_ASSERT_EQUAL(std::string("cors.max_age = 86401 is out of range [0, 86400]"),
                             problemAbout(problems, "cors.max_age"));
        CPPUNIT_ASSERT(contains(problemAbout(problems, "cors.allow_origin "), "is not a berthd setting"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(15), problems.size());
        // Bad values fall back to the defaults.
        CPPUNIT_ASSERT_EQUAL(8080, c.engine.port);
        CPPUNIT_ASSERT_EQUAL(16, c.engine.workerThreads);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1024), c.engine.maxQueued);
        CPPUNIT_ASSERT_EQUAL(std::size_t(64), c.limits.maxHeaderCount);
        CPPUNIT_ASSERT(!c.plugins.abortOnFailure);
        CPPUNIT_ASSERT(!c.cors.allowCredentials);
        CPPUNIT_ASSERT_EQUAL(600, c.cors.maxAgeSeconds);
    }

    void testNotAnInteger() {
        for (const char* value :
             {"", "abc", "80x", "8.0", "1e3", "0x50", "99999999999999999999", "-99999999999999999999"}) {
            Problems problems;
            ServerConfig c = load({{"server.port", value}}, problems);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string("'") + value + "'", std::size_t(1), problems.size());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(
                value, std::string("server.port = '") + value + "' is not an integer", problems[0]);
            CPPUNIT_ASSERT_EQUAL(8080, c.engine.port);
        }
    }

    void testRangeBoundaries() {
        Problems problems;
        CPPUNIT_ASSERT_EQUAL(65535, load({{"server.port", "65535"}}, problems).engine.port);
        CPPUNIT_ASSERT_EQUAL(0, load({{"server.port", " 0 "}}, problems).engine.port);
        CPPUNIT_ASSERT(problems.empty());
        load({{"server.port", "65536"}}, problems);
        load({{"server.port", "-1"}}, problems);
        // Would wrap to a valid int if narrowed before the range check.
        load({{"server.port", "4294975376"}}, problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), problems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("server.port = 65536 is out of range [0, 65535]"), problems[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("server.port = -1 is out of range [0, 65535]"), problems[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("server.port = 4294975376 is out of range [0, 65535]"), problems[2]);
    }

    // Poco's NumberParser skips ',' as a thousands separator by default, so "80,80" would silently
    // become port 8080 and "1,0,0" 100: a typo that --check-config must report.
    void testThousandsSeparatorIsNotAnInteger() {
        for (const char* value : {"80,80", "1,024", "8,0,8,0"}) {
            Problems problems;
            ServerConfig c = load({{"server.port", value}}, problems);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(
                std::string("server.port = ") + value + " read as " + std::to_string(c.engine.port),
                std::size_t(1), problems.size());
            CPPUNIT_ASSERT_EQUAL(std::string("server.port = '") + value + "' is not an integer", problems[0]);
        }
    }

    void testUnknownKeys() {
        Problems problems;
        load({{"server.adress", "x"}, {"plugins.ondisk", "x"}, {"http.body", "1"}, {"cors.origin", "x"}},
             problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), problems.size());
        CPPUNIT_ASSERT_EQUAL(
            std::string("server.adress is not a berthd setting (see the comments in conf/berth.properties)"),
            problemAbout(problems, "server.adress"));
        problemAbout(problems, "plugins.ondisk");
        problemAbout(problems, "http.body");
        problemAbout(problems, "cors.origin");
    }

    void testOtherSectionsIgnored() {
        Problems problems;
        load({{"logging.loggers.root.level", "debug"},
              {"application.x", "1"},
              {"hello.greeting", "hi"},
              {"servers", "x"}},
             problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), problems.size());
    }

    void testRelativePathsResolved() {
        Problems problems;
        ServerConfig c = load({{"plugins.dir", "lib/plugins"}, {"plugins.conf_dir", "conf.d"}}, problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/berth/lib/plugins"), c.plugins.pluginsDir);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/berth/conf.d"), c.plugins.confDir);
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        config->setString("plugins.dir", "plugins");
        ServerConfig slash = ServerConfig::load(*config, "/srv/conf/", problems);
        CPPUNIT_ASSERT_EQUAL(std::string("/srv/conf/plugins"), slash.plugins.pluginsDir);
        ServerConfig absolute = load({{"plugins.dir", "/abs/plugins"}}, problems);
        CPPUNIT_ASSERT_EQUAL(std::string("/abs/plugins"), absolute.plugins.pluginsDir);
        CPPUNIT_ASSERT(problems.empty());
    }

    void testOnFailure() {
        Problems problems;
        CPPUNIT_ASSERT(load({{"plugins.on_failure", "abort"}}, problems).plugins.abortOnFailure);
        CPPUNIT_ASSERT(load({{"plugins.on_failure", " ABORT "}}, problems).plugins.abortOnFailure);
        CPPUNIT_ASSERT(!load({{"plugins.on_failure", "skip"}}, problems).plugins.abortOnFailure);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT(!load({{"plugins.on_failure", ""}}, problems).plugins.abortOnFailure);
        CPPUNIT_ASSERT(!load({{"plugins.on_failure", "aborted"}}, problems).plugins.abortOnFailure);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), problems.size());
    }

    void testBooleans() {
        for (const char* yes : {"true", "TRUE", "yes", "on", "1", " True "}) {
            Problems problems;
            CPPUNIT_ASSERT_MESSAGE(yes,
                                   load({{"cors.allow_credentials", yes}}, problems).cors.allowCredentials);
            CPPUNIT_ASSERT(problems.empty());
        }
        for (const char* no : {"false", "no", "off", "0", "FALSE"}) {
            Problems problems;
            CPPUNIT_ASSERT_MESSAGE(no,
                                   !load({{"cors.allow_credentials", no}}, problems).cors.allowCredentials);
            CPPUNIT_ASSERT(problems.empty());
        }
        for (const char* bad : {"", "2", "y", "truee"}) {
            Problems problems;
            load({{"cors.allow_credentials", bad}}, problems);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, std::size_t(1), problems.size());
        }
    }

    void testCorsLists() {
        Problems problems;
        ServerConfig c = load({{"cors.allowed_origins", "*"},
                               {"cors.allowed_methods", "GET,  POST"},
                               {"cors.allowed_headers", ""},
                               {"cors.exposed_headers", "X-Request-Id, X-Total"}},
                              problems);
        CPPUNIT_ASSERT(problems.empty());
        CPPUNIT_ASSERT(c.cors.allowedOrigins == std::vector<std::string>({"*"}));
        CPPUNIT_ASSERT(c.cors.allowedMethods == std::vector<std::string>({"GET", "POST"}));
        CPPUNIT_ASSERT(c.cors.allowedHeaders.empty());  // set but empty: none allowed
        CPPUNIT_ASSERT(c.cors.exposedHeaders == std::vector<std::string>({"X-Request-Id", "X-Total"}));
        ServerConfig unset = load({}, problems);
        CPPUNIT_ASSERT(unset.cors.allowedHeaders ==
                       std::vector<std::string>({"Content-Type", "Authorization", "X-Request-Id"}));
    }

    void testCorsOriginWithoutScheme() {
        Problems problems;
        load({{"cors.allowed_origins", "https://ok.example, app.example.com, localhost:3000"}}, problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), problems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("cors.allowed_origins: 'app.example.com' is not an origin like "
                                         "https://app.example.com"),
                             problems[0]);
        CPPUNIT_ASSERT(contains(problems[1], "'localhost:3000'"));
    }

    void testEmptyAddress() {
        Problems problems;
        load({{"server.address", "   "}}, problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), problems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("server.address is empty"), problems[0]);
    }

    void testShippedConfigurationIsClean() {
        const std::string confDir = std::string(BERTH_SOURCE_DIR) + "/conf";
        Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> config(
            new Poco::Util::PropertyFileConfiguration(confDir + "/berth.properties"));
        Problems problems;
        ServerConfig c = ServerConfig::load(*config, confDir, problems);
        std::string all;
        for (const std::string& problem : problems) all += problem + "\n";
        CPPUNIT_ASSERT_MESSAGE(all, problems.empty());
        CPPUNIT_ASSERT_EQUAL(confDir + "/plugins.d", c.plugins.confDir);
        CPPUNIT_ASSERT_EQUAL(8080, c.engine.port);
        CPPUNIT_ASSERT(c.cors.allowedOrigins.empty());
    }

    void testUndefinedVariableIsAProblem() {
        Problems problems;
        ServerConfig c = load({{"server.address", "${system.env.BERTH_SURELY_UNDEFINED}"}}, problems);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), problems.size());
        CPPUNIT_ASSERT_EQUAL(
            std::string("server.address: ${system.env.BERTH_SURELY_UNDEFINED} is not defined "
                        "(is the environment variable set?)"),
            problems[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), c.engine.address);
    }

    // The shipped file is the documentation of every key: it must hold exactly what berthd reads.
    void testShippedConfigurationDocumentsEveryKey() {
        Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> shipped(
            new Poco::Util::PropertyFileConfiguration(std::string(BERTH_SOURCE_DIR) +
                                                      "/conf/berth.properties"));
        std::set<std::string> inFile;
        for (const char* section :
             {"server", "plugins", "http", "cors", "migrate", "redis", "fanout", "tracing"}) {
            Poco::Util::AbstractConfiguration::Keys keys;
            shipped->keys(section, keys);
            // tracing.zipkin.* nests one level deeper.
            for (const std::string& key : keys) {
                Poco::Util::AbstractConfiguration::Keys nested;
                shipped->keys(std::string(section) + "." + key, nested);
                for (const std::string& leaf : nested)
                    inFile.insert(std::string(section) + "." + key + "." + leaf);
                if (nested.empty()) inFile.insert(std::string(section) + "." + key);
            }
        }
        std::vector<std::string> read = ServerConfig::keys();
        std::set<std::string> readSet(read.begin(), read.end());
        for (const std::string& key : readSet)
            CPPUNIT_ASSERT_MESSAGE(key + " is read by berthd but missing from conf/berth.properties",
                                   inFile.count(key));
        for (const std::string& key : inFile)
            CPPUNIT_ASSERT_MESSAGE(key + " is in conf/berth.properties but berthd does not read it",
                                   readSet.count(key));
        CPPUNIT_ASSERT(readSet.size() > 20);

        // db.<name>.* and clients.<service>.* keys are dynamic: the shipped file declares one
        // database (`main`) and one service (`hospital-service`) with every key they read.
        auto documentsEveryKey = [&](const std::string& section, const std::string& name,
                                     const std::vector<std::string>& read) {
            Poco::Util::AbstractConfiguration::Keys keys;
            shipped->keys(section + "." + name, keys);
            std::set<std::string> inFile(keys.begin(), keys.end());
            std::set<std::string> readSet(read.begin(), read.end());
            for (const std::string& key : readSet)
                CPPUNIT_ASSERT_MESSAGE(section + ".<name>." + key + " is read by berthd but " + section +
                                           "." + name + "." + key + " is missing from conf/berth.properties",
                                       inFile.count(key));
            for (const std::string& key : inFile)
                CPPUNIT_ASSERT_MESSAGE(section + "." + name + "." + key +
                                           " is in conf/berth.properties but berthd does not read it",
                                       readSet.count(key));
        };
        Poco::Util::AbstractConfiguration::Keys names;
        shipped->keys("db", names);
        CPPUNIT_ASSERT(names == Poco::Util::AbstractConfiguration::Keys({"main"}));
        documentsEveryKey("db", "main", ServerConfig::databaseKeys());
        documentsEveryKey("clients", "hospital-service", ServerConfig::clientKeys());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ServerConfigTest);
