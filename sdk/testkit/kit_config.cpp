#include "kit_config.h"

#include <Poco/DirectoryIterator.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <Poco/Util/SystemConfiguration.h>
#include <cppunit/TestAssert.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <fstream>

#include "strict_number.h"

namespace berth::testkit {
namespace {

using Poco::Util::AbstractConfiguration;
using Poco::Util::MapConfiguration;

// Values as written (`${system.env.X}` still in them): the layers above may replace them first.
void copyRaw(const AbstractConfiguration& from, const std::string& key, MapConfiguration& to) {
    if (!key.empty() && from.hasProperty(key)) to.setString(key, from.getRawString(key));
    AbstractConfiguration::Keys children;
    from.keys(key, children);
    for (const std::string& child : children) copyRaw(from, key.empty() ? child : key + "." + child, to);
}

std::string resolve(const std::string& folder, const std::string& path) {
    Poco::Path p(path);
    return p.isAbsolute() ? p.toString()
                          : Poco::Path(Poco::Path(folder).makeDirectory()).resolve(p).toString();
}

// A value in a properties file: '\' starts an escape there, and a line break ends the value.
std::string propertyValue(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else
            out += c;
    }
    return out;
}

// Made again at every start: the plugins or their settings may have changed since the last one.
void freshFolder(const std::string& folder) {
    Poco::File file(folder);
    if (file.exists()) file.remove(true);
    file.createDirectories();
}

void linkPlugins(const std::vector<std::string>& plugins, const std::string& folder) {
    freshFolder(folder);
    for (const std::string& plugin : plugins) {
        char resolved[PATH_MAX];
        if (::realpath(plugin.c_str(), resolved) == nullptr || !Poco::File(resolved).isFile())
            CPPUNIT_FAIL("ApiTestCase: the plugin file " + plugin + " does not exist (is its target built?)");
        std::string link = folder + "/" + Poco::Path(resolved).getFileName();
        if (::symlink(resolved, link.c_str()) != 0)
            CPPUNIT_FAIL("ApiTestCase: cannot link " + link + " to " + resolved +
                         " (two plugin files of one name?)");
    }
}

// The service's plugins.d/*.properties, each with the test's settings of that plugin after it.
void writePluginSettings(const std::string& from, const std::string& folder, const TestSettings& test) {
    freshFolder(folder);
    std::map<std::string, std::string> files;
    if (Poco::File(from).exists())
        for (Poco::DirectoryIterator it(from), end; it != end; ++it)
            if (it->isFile() && Poco::Path(it.name()).getExtension() == "properties") {
                std::ifstream in(it->path(), std::ios::binary);
                files[Poco::Path(it.name()).getBaseName()] =
                    std::string(std::istreambuf_iterator<char>(in), {});
            }
    for (const auto& [plugin, settings] : test.plugins) {
        std::string& text = files[plugin];
        text += "\n# ApiTestCase::setPlugin\n";
        for (const auto& [key, value] : settings) text += key + " = " + propertyValue(value) + "\n";
    }
    for (const auto& [plugin, text] : files) {
        std::ofstream out(folder + "/" + plugin + ".properties", std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) CPPUNIT_FAIL("ApiTestCase: cannot write " + folder + "/" + plugin + ".properties");
    }
}

// One environment variable over one key, only when it is set: set to "" is a value (no
// password, say); unset leaves the file's value. A malformed port or number fails the test.
void overrideFromEnv(MapConfiguration& config, const std::string& key, const char* variable,
                     long long min = 0, long long max = -1) {
    const char* value = std::getenv(variable);
    if (value == nullptr) return;
    std::int64_t number = 0;
    if (min <= max && (!internal::parseStrictInt64(value, number) || number < min || number > max))
        CPPUNIT_FAIL(std::string("ApiTestCase: ") + variable + " = '" + value + "' is not a number from " +
                     std::to_string(min) + " to " + std::to_string(max));
    config.setString(key, value);
}

// The local services of the environment (scripts/postgres env, scripts/redis env) over the file's
// db.<name>.* and redis.*, each variable only when set. No replicas: reads right after a write must
// see it.
void useLocalServices(MapConfiguration& config) {
    AbstractConfiguration::Keys databases;
    config.keys("db", databases);
    for (const std::string& name : databases) {
        const std::string db = "db." + name + ".";
        overrideFromEnv(config, db + "host", "BERTH_PG_HOST");
        overrideFromEnv(config, db + "port", "BERTH_PG_PORT", 1, 65535);
        overrideFromEnv(config, db + "user", "BERTH_PG_USER");
        overrideFromEnv(config, db + "password", "BERTH_PG_PASSWORD");
        overrideFromEnv(config, db + "dbname", "BERTH_PG_TEST_DATABASE");
        config.setString(db + "replicas", "");
    }
    if (config.hasProperty("redis.host")) {
        overrideFromEnv(config, "redis.host", "BERTH_REDIS_HOST");
        overrideFromEnv(config, "redis.port", "BERTH_REDIS_PORT", 1, 65535);
        overrideFromEnv(config, "redis.password", "BERTH_REDIS_PASSWORD");
        overrideFromEnv(config, "redis.db", "BERTH_REDIS_DB", 0, 65535);
    }
}

void applyKitLayer(MapConfiguration& config, const KitLayer& kit) {
    config.setString("server.address", "127.0.0.1");
    config.setString("server.port", "0");
    config.setString("plugins.dir", kit.dir + "/plugins");
    config.setString("plugins.conf_dir", kit.dir + "/plugins.d");
    config.setString("http.access_log_file", kit.dir + "/access.log");
    AbstractConfiguration::Keys databases;
    config.keys("db", databases);
    for (const std::string& name : databases) {
        config.setString("db." + name + ".schema", kit.schema);
        config.setString("db." + name + ".auto_migrate", "true");
    }
    if (config.hasProperty("redis.host")) config.setString("redis.key_prefix", kit.keyPrefix);
}

}  // namespace

Poco::AutoPtr<AbstractConfiguration> kitConfiguration(const std::string& configFile, const KitLayer& kit,
                                                      const TestSettings& test) {
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> file;
    try {
        file = new Poco::Util::PropertyFileConfiguration(configFile);
    } catch (const Poco::Exception& e) {
        CPPUNIT_FAIL("ApiTestCase: the configuration " + configFile + " cannot be read: " + e.displayText());
    }
    Poco::AutoPtr<MapConfiguration> config(new MapConfiguration);
    copyRaw(*file, "", *config);
    // unset() leaves keys out of the file, before the layers above look at what it configures.
    for (const auto& [key, value] : test.host)
        if (!value) config->remove(key);
    useLocalServices(*config);
    applyKitLayer(*config, kit);
    for (const auto& [key, value] : test.host)
        if (value)
            config->setString(key, *value);
        else
            config->remove(key);

    const std::string confFolder = Poco::Path(configFile).makeAbsolute().parent().toString();
    linkPlugins(kit.plugins, kit.dir + "/plugins");
    writePluginSettings(resolve(confFolder, file->getString("plugins.conf_dir", "plugins.d")),
                        kit.dir + "/plugins.d", test);

    Poco::AutoPtr<Poco::Util::LayeredConfiguration> layered(new Poco::Util::LayeredConfiguration);
    layered->add(config, 0);
    layered->add(new Poco::Util::SystemConfiguration, 100);  // ${system.env.X}, as berthd has it
    return layered;
}

}  // namespace berth::testkit
