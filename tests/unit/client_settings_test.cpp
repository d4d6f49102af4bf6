// clients.<service>.* of conf/berth.properties: defaults, values, the url's parts, every problem
// named with its key, and an undefined ${system.env.X} that makes the service unusable with a
// warning instead of refusing to start.
#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "client/client_settings.h"
#include "test_helpers.h"

using berth::server::ClientSettings;
using berth::server::loadClientSettings;
using Poco::Util::MapConfiguration;
using Strings = std::vector<std::string>;

class ClientSettingsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ClientSettingsTest);
    CPPUNIT_TEST(testNoneConfigured);
    CPPUNIT_TEST(testDefaults);
    CPPUNIT_TEST(testValues);
    CPPUNIT_TEST(testUrlProblems);
    CPPUNIT_TEST(testKeyProblems);
    CPPUNIT_TEST(testCaFile);
    CPPUNIT_TEST(testUndefinedVariableIsAWarning);
    CPPUNIT_TEST_SUITE_END();

  public:
    static std::vector<ClientSettings> load(const Strings& lines, Strings& problems, Strings& warnings) {
        Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
        for (const std::string& line : lines) {
            std::size_t eq = line.find('=');
            config->setString(line.substr(0, eq), line.substr(eq + 1));
        }
        return loadClientSettings(*config, problems, warnings);
    }

    static std::string joined(const Strings& lines) {
        std::string all;
        for (const std::string& line : lines) all += line + "\n";
        return all;
    }

    /// The one problem `lines` cause.
    static std::string problemOf(const Strings& lines) {
        Strings problems, warnings;
        load(lines, problems, warnings);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(joined(problems), std::size_t(1), problems.size());
        return problems[0];
    }

    void testNoneConfigured() {
        Strings problems, warnings;
        CPPUNIT_ASSERT(load({}, problems, warnings).empty());
        CPPUNIT_ASSERT(problems.empty() && warnings.empty());
    }

    void testDefaults() {
        Strings problems, warnings;
        std::vector<ClientSettings> clients =
            load({"clients.hospital-service.url=http://10.0.0.5"}, problems, warnings);
        CPPUNIT_ASSERT_MESSAGE(joined(problems), problems.empty() && warnings.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), clients.size());
        const ClientSettings& c = clients[0];
        CPPUNIT_ASSERT_EQUAL(std::string("hospital-service"), c.name);
        CPPUNIT_ASSERT(!c.https);
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.5"), c.host);
        CPPUNIT_ASSERT_EQUAL(80, c.port);
        CPPUNIT_ASSERT_EQUAL(std::string(""), c.basePath);
        CPPUNIT_ASSERT_EQUAL(1000, c.connectTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(5000, c.readTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(16, c.poolSize);
        CPPUNIT_ASSERT_EQUAL(1000, c.poolWaitMs);
        CPPUNIT_ASSERT_EQUAL(4000, c.idleTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(2, c.retries);
        CPPUNIT_ASSERT_EQUAL(50, c.retryBackoffMs);
        CPPUNIT_ASSERT_EQUAL(16 * 1024 * 1024, c.maxResponseBytes);
        CPPUNIT_ASSERT_EQUAL(std::string("http://10.0.0.5:80"), c.describe());
    }

    void testValues() {
        Strings problems, warnings;
        std::vector<ClientSettings> clients =
            load({"clients.b.url= https://api.example.com:8443/v1/ ", "clients.b.connect_timeout_ms=250",
                  "clients.b.read_timeout_ms=750", "clients.b.pool_size=4", "clients.b.pool_wait_ms=0",
                  "clients.b.idle_timeout_ms=1500", "clients.b.retries=0", "clients.b.retry_backoff_ms=10",
                  "clients.b.max_response_bytes=1024", "clients.a.url=http://127.0.0.1:9000/"},
                 problems, warnings);
        CPPUNIT_ASSERT_MESSAGE(joined(problems), problems.empty() && warnings.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), clients.size());
        CPPUNIT_ASSERT_EQUAL(std::string("a"), clients[0].name);  // sorted by name
        CPPUNIT_ASSERT_EQUAL(std::string(""), clients[0].basePath);
        CPPUNIT_ASSERT_EQUAL(9000, clients[0].port);
        const ClientSettings& b = clients[1];
        CPPUNIT_ASSERT(b.https);
        CPPUNIT_ASSERT_EQUAL(std::string("api.example.com"), b.host);
        CPPUNIT_ASSERT_EQUAL(8443, b.port);
        CPPUNIT_ASSERT_EQUAL(std::string("/v1"), b.basePath);
        CPPUNIT_ASSERT_EQUAL(250, b.connectTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(750, b.readTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(4, b.poolSize);
        CPPUNIT_ASSERT_EQUAL(0, b.poolWaitMs);
        CPPUNIT_ASSERT_EQUAL(1500, b.idleTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(0, b.retries);
        CPPUNIT_ASSERT_EQUAL(10, b.retryBackoffMs);
        CPPUNIT_ASSERT_EQUAL(1024, b.maxResponseBytes);
        CPPUNIT_ASSERT_EQUAL(std::string("https://api.example.com:8443/v1"), b.describe());
    }

    void testUrlProblems() {
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.url is required (http://host:port[/path])"),
                             problemOf({"clients.s.read_timeout_ms=100"}));
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.url = 'ftp://h/': must start with http:// or https://"),
                             problemOf({"clients.s.url=ftp://h/"}));
        CPPUNIT_ASSERT_EQUAL(
            std::string("clients.s.url = 'localhost:8080': must start with http:// or https://"),
            problemOf({"clients.s.url=localhost:8080"}));
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.url = 'http://': names no host"),
                             problemOf({"clients.s.url=http://"}));
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                "clients.s.url = 'http://u:p@h/': credentials do not belong in the URL (send them as a "
                "header from the plugin)"),
            problemOf({"clients.s.url=http://u:p@h/"}));
        CPPUNIT_ASSERT_EQUAL(
            std::string("clients.s.url = 'http://h/?x=1': a service URL has no query or fragment"),
            problemOf({"clients.s.url=http://h/?x=1"}));
        CPPUNIT_ASSERT_EQUAL(
            std::string("clients.s.url = 'http://h/a b': its path may only hold letters, digits "
                        "and - . _ ~ /"),
            problemOf({"clients.s.url=http://h/a b"}));
        CPPUNIT_ASSERT(problemOf({"clients.s.url=http://h:99999/"})
                           .find("clients.s.url = 'http://h:99999/': not a URL") == 0);
    }

    void testKeyProblems() {
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.timeout is not a berthd setting (see the comments in "
                                         "conf/berth.properties)"),
                             problemOf({"clients.s.url=http://h", "clients.s.timeout=5"}));
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.read_timeout_ms = 0 is out of range [1, 3600000]"),
                             problemOf({"clients.s.url=http://h", "clients.s.read_timeout_ms=0"}));
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.connect_timeout_ms = -5 is out of range [1, 600000]"),
                             problemOf({"clients.s.url=http://h", "clients.s.connect_timeout_ms=-5"}));
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.pool_size = 'many' is not an integer"),
                             problemOf({"clients.s.url=http://h", "clients.s.pool_size=many"}));
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.retries = 11 is out of range [0, 10]"),
                             problemOf({"clients.s.url=http://h", "clients.s.retries=11"}));
        CPPUNIT_ASSERT_EQUAL(std::string("clients.a b: a service name is letters, digits, '_' and '-'"),
                             problemOf({"clients.a b.url=http://h"}));
    }

    void testCaFile() {
        CPPUNIT_ASSERT_EQUAL(std::string("clients.s.ca_file is only for an https:// url"),
                             problemOf({"clients.s.url=http://h", "clients.s.ca_file=/etc/hostname"}));
        CPPUNIT_ASSERT_EQUAL(
            std::string("clients.s.ca_file = '/nonexistent/ca.pem' is not a readable file (an "
                        "absolute path to PEM certificates)"),
            problemOf({"clients.s.url=https://h", "clients.s.ca_file=/nonexistent/ca.pem"}));
        CPPUNIT_ASSERT_EQUAL(
            std::string("clients.s.ca_file = 'ca.pem' is not a readable file (an absolute path "
                        "to PEM certificates)"),
            problemOf({"clients.s.url=https://h", "clients.s.ca_file=ca.pem"}));
        berth::test::TempDir dir;
        berth::test::writeFile(dir.file("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        Strings problems, warnings;
        auto clients =
            load({"clients.s.url=https://h", "clients.s.ca_file=" + dir.file("ca.pem")}, problems, warnings);
        CPPUNIT_ASSERT_MESSAGE(joined(problems), problems.empty());
        CPPUNIT_ASSERT_EQUAL(dir.file("ca.pem"), clients.at(0).caFile);
        CPPUNIT_ASSERT_EQUAL(443, clients.at(0).port);
    }

    void testUndefinedVariableIsAWarning() {
        Strings problems, warnings;
        std::vector<ClientSettings> clients =
            load({"clients.s.url=${system.env.BERTH_SURELY_UNDEFINED_URL}"}, problems, warnings);
        CPPUNIT_ASSERT_MESSAGE(joined(problems), problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), warnings.size());
        CPPUNIT_ASSERT_EQUAL(
            std::string("service 's' is not usable: clients.s.url: "
                        "${system.env.BERTH_SURELY_UNDEFINED_URL} is not defined (is the "
                        "environment variable set?); berthd starts, and calls to it answer 503"),
            warnings[0]);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), clients.size());
        CPPUNIT_ASSERT(!clients[0].unusable.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ClientSettingsTest);
