#include "service_settings_reader.h"

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <algorithm>
#include <cstdint>

#include "strict_number.h"

namespace berth::server {

std::string ServiceSettingsReader::text(const std::string& key, const std::string& fallback) {
    std::string full = prefix_ + key;
    if (!config_.hasProperty(full)) return fallback;
    std::string value;
    try {
        value = Poco::trim(config_.getString(full));
    } catch (const Poco::Exception& e) {
        problems_.push_back(full + ": " + e.displayText());
        return fallback;
    }
    std::size_t open = value.find("${");
    if (open != std::string::npos) {
        if (unusable_.empty())
            unusable_ = full + ": " + value.substr(open, value.find('}', open) - open + 1) +
                        " is not defined (is the environment variable set?)";
        return fallback;
    }
    return value;
}

int ServiceSettingsReader::integer(const std::string& key, int fallback, int min, int max) {
    std::string raw = text(key, "");
    if (raw.empty()) return fallback;
    std::int64_t value = 0;
    if (!internal::parseStrictInt64(raw, value)) {
        problems_.push_back(prefix_ + key + " = '" + raw + "' is not an integer");
        return fallback;
    }
    if (value < min || value > max) {
        problems_.push_back(prefix_ + key + " = " + raw + " is out of range [" + std::to_string(min) + ", " +
                            std::to_string(max) + "]");
        return fallback;
    }
    return static_cast<int>(value);
}

void reportUnknownKeys(const Poco::Util::AbstractConfiguration& config, const std::string& section,
                       const std::vector<std::string>& known, std::vector<std::string>& problems) {
    Poco::Util::AbstractConfiguration::Keys keys;
    config.keys(section, keys);
    for (const std::string& key : keys)
        if (std::find(known.begin(), known.end(), key) == known.end())
            problems.push_back(section + "." + key +
                               " is not a berthd setting (see the comments in conf/berth.properties)");
}

}  // namespace berth::server
