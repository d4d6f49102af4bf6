#include "plugin_settings.h"

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <Poco/Util/SystemConfiguration.h>

#include "../http/route_table.h"

namespace berth::server {

PluginSettings PluginSettings::load(const std::string& confDir, const std::string& name,
                                    std::vector<std::string>& problems) {
    PluginSettings settings;
    settings.prefix = "/" + name;
    settings.config = new Poco::Util::MapConfiguration;
    std::string file = Poco::Path(confDir).append(name + ".properties").toString();
    if (confDir.empty() || !Poco::File(file).exists()) return settings;
    settings.file = file;
    try {
        // Layered over the system configuration so that ${system.env.NAME} works here as it
        // does in berth.properties (secrets belong in the environment, not in these files).
        Poco::AutoPtr<Poco::Util::LayeredConfiguration> layered = new Poco::Util::LayeredConfiguration;
        layered->add(new Poco::Util::PropertyFileConfiguration(file), 0);
        layered->add(new Poco::Util::SystemConfiguration, 100);
        settings.config = layered;
    } catch (const Poco::Exception& e) {
        problems.push_back(file + ": cannot be read: " + e.displayText());
        return settings;
    }
    try {
        settings.enabled = settings.config->getBool("enabled", true);
    } catch (const Poco::Exception&) {
        problems.push_back(file + ": enabled = '" + settings.config->getRawString("enabled") +
                           "' is not a boolean (true/false)");
    }
    if (settings.config->hasProperty("prefix")) {
        std::string prefix = settings.config->getString("prefix");
        std::string problem = RouteTable::prefixProblem(prefix);
        if (problem.empty())
            settings.prefix = prefix;
        else
            problems.push_back(file + ": " + problem);
    }
    return settings;
}

}  // namespace berth::server
