#pragma once
// The configuration of an ApiTestCase's host, in the layers berth/testing.h describes: the
// service's berth.properties, the local services of the environment (BERTH_PG_*, BERTH_REDIS_*, each when
// set), the kit's own settings for this test, and the test's set()/unset()/setPlugin(). Also lays out the
// test's folder: plugins/ (links to the plugin files under test) and plugins.d/ (the service's
// plugin settings with the test's after them).

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace berth::testkit {

/// What the kit sets for one test.
struct KitLayer {
    std::string dir;        // the test's folder: confDir of the host
    std::string schema;     // db.<name>.schema of every database
    std::string keyPrefix;  // redis.key_prefix
    std::vector<std::string> plugins;
};

/// What the test set, in order.
struct TestSettings {
    std::vector<std::pair<std::string, std::optional<std::string>>> host;  // nullopt: unset()
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> plugins;
};

/// berth.properties as the host reads it (with `${system.env.X}` resolved); writes dir/plugins and
/// dir/plugins.d first. A file that cannot be read, a plugin file that does not exist or an
/// environment that lacks the local services fails the test (CppUnit).
Poco::AutoPtr<Poco::Util::AbstractConfiguration> kitConfiguration(const std::string& configFile,
                                                                  const KitLayer& kit,
                                                                  const TestSettings& test);

}  // namespace berth::testkit
