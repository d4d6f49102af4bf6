#include "logging_setup.h"

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Util/AbstractConfiguration.h>

namespace berth::server {

std::vector<std::string> prepareLogging(Poco::Util::AbstractConfiguration& config,
                                        const std::string& confDir) {
    std::vector<std::string> problems;
    Poco::Util::AbstractConfiguration::Keys channels;
    config.keys("logging.channels", channels);
    for (const std::string& channel : channels) {
        const std::string key = "logging.channels." + channel + ".path";
        if (!config.hasProperty(key)) continue;
        const std::string given = config.getString(key);
        if (given.empty()) continue;  // the channel itself reports a missing path
        Poco::Path path(given);
        if (path.isRelative()) {
            path = Poco::Path(Poco::Path(confDir).makeDirectory()).resolve(path);
            config.setString(key, path.toString());
        }
        Poco::Path folder = path.parent();
        try {
            Poco::File(folder).createDirectories();
        } catch (const Poco::Exception& e) {
            problems.push_back(key + " = " + given + ": cannot create the folder " + folder.toString() +
                               ": " + e.displayText());
        }
    }
    return problems;
}

}  // namespace berth::server
