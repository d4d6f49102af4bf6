#pragma once
// A plugin's conf/plugins.d/<name>.properties: the host's keys (enabled, prefix) and the
// plugin's own keys, which reach it through berth::Context.

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <string>
#include <vector>

namespace berth::server {

struct PluginSettings {
    std::string file;  // the properties file, or empty when the plugin has none
    bool enabled = true;
    std::string prefix;  // "/<name>" unless the file overrides it
    Poco::AutoPtr<Poco::Util::AbstractConfiguration> config;

    /// Reads `<confDir>/<name>.properties` if it exists; appends every problem (unreadable file,
    /// bad `enabled`, bad `prefix`) to `problems`.
    static PluginSettings load(const std::string& confDir, const std::string& name,
                               std::vector<std::string>& problems);
};

}  // namespace berth::server
