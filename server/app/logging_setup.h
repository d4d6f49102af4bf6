#pragma once
// Gets the logging.* keys ready for Poco's LoggingConfigurator (which ServerApplication runs):
// file channels' relative paths resolved the way berth.properties resolves its own, and their
// folders made.

#include <string>
#include <vector>

namespace Poco::Util {
class AbstractConfiguration;
}

namespace berth::server {

/// For each logging.channels.<name>.path, resolves a relative path
/// against `confDir` (so the working directory does not matter: systemd, --daemon, scripts/dev)
/// and writes it back into `config`, then creates the file's folder. Returns one message per
/// folder that cannot be made (the channel would fail on its first line), empty when all is well.
std::vector<std::string> prepareLogging(Poco::Util::AbstractConfiguration& config,
                                        const std::string& confDir);

}  // namespace berth::server
