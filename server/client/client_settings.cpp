#include "client_settings.h"

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <algorithm>
#include <cctype>

#include "../app/service_settings_reader.h"

namespace berth::server {
namespace {

const std::vector<std::string> kKeys = {
    "url",     "connect_timeout_ms", "read_timeout_ms",    "pool_size", "pool_wait_ms", "idle_timeout_ms",
    "retries", "retry_backoff_ms",   "max_response_bytes", "ca_file"};

bool validName(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-';
    });
}

bool validPath(const std::string& path) {
    return std::all_of(path.begin(), path.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~';
    });
}

// Fills scheme, host, port and base path from s.url; a problem names the key and what is wrong.
void parseUrl(ClientSettings& s, std::vector<std::string>& problems) {
    const std::string key = "clients." + s.name + ".url";
    auto refuse = [&](const std::string& why) { problems.push_back(key + " = '" + s.url + "': " + why); };
    Poco::URI uri;
    try {
        uri = Poco::URI(s.url);
    } catch (const Poco::Exception& e) {
        return refuse("not a URL (" + e.displayText() + ")");
    }
    if (uri.getScheme() != "http" && uri.getScheme() != "https")
        return refuse("must start with http:// or https://");
    if (uri.getHost().empty()) return refuse("names no host");
    if (!uri.getUserInfo().empty())
        return refuse("credentials do not belong in the URL (send them as a header from the plugin)");
    if (!uri.getRawQuery().empty() || !uri.getFragment().empty())
        return refuse("a service URL has no query or fragment");
    if (uri.getPort() == 0) return refuse("port 0 is not a port");
    std::string path = uri.getPath();
    if (!validPath(path)) return refuse("its path may only hold letters, digits and - . _ ~ /");
    while (!path.empty() && path.back() == '/') path.pop_back();
    s.https = uri.getScheme() == "https";
    s.host = uri.getHost();
    s.port = uri.getPort();
    s.basePath = path;
}

bool readableFile(const std::string& path) {
    try {
        Poco::File file(path);
        return Poco::Path(path).isAbsolute() && file.isFile() && file.canRead();
    } catch (const Poco::Exception&) {
        return false;
    }
}

}  // namespace

std::string ClientSettings::describe() const {
    return std::string(https ? "https" : "http") + "://" + host + ":" + std::to_string(port) + basePath;
}

std::vector<ClientSettings> loadClientSettings(const Poco::Util::AbstractConfiguration& config,
                                               std::vector<std::string>& problems,
                                               std::vector<std::string>& warnings) {
    std::vector<ClientSettings> clients;
    Poco::Util::AbstractConfiguration::Keys names;
    config.keys("clients", names);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        if (!validName(name)) {
            problems.push_back("clients." + name + ": a service name is letters, digits, '_' and '-'");
            continue;
        }
        reportUnknownKeys(config, "clients." + name, kKeys, problems);
        ClientSettings s;
        s.name = name;
        ServiceSettingsReader read(config, "clients." + name + ".", problems, s.unusable);
        s.url = read.text("url", "");
        s.connectTimeoutMs = read.integer("connect_timeout_ms", s.connectTimeoutMs, 1, 600000);
        s.readTimeoutMs = read.integer("read_timeout_ms", s.readTimeoutMs, 1, 3600000);
        s.poolSize = read.integer("pool_size", s.poolSize, 1, 1000);
        s.poolWaitMs = read.integer("pool_wait_ms", s.poolWaitMs, 0, 600000);
        s.idleTimeoutMs = read.integer("idle_timeout_ms", s.idleTimeoutMs, 0, 3600000);
        s.retries = read.integer("retries", s.retries, 0, 10);
        s.retryBackoffMs = read.integer("retry_backoff_ms", s.retryBackoffMs, 0, 60000);
        s.maxResponseBytes = read.integer("max_response_bytes", s.maxResponseBytes, 1, 1 << 30);
        s.caFile = read.text("ca_file", "");
        if (s.unusable.empty()) {
            if (s.url.empty())
                problems.push_back("clients." + name + ".url is required (http://host:port[/path])");
            else
                parseUrl(s, problems);
            if (!s.caFile.empty() && !s.https)
                problems.push_back("clients." + name + ".ca_file is only for an https:// url");
            else if (!s.caFile.empty() && !readableFile(s.caFile))
                problems.push_back("clients." + name + ".ca_file = '" + s.caFile +
                                   "' is not a readable file (an absolute path to PEM certificates)");
        } else {
            warnings.push_back("service '" + name + "' is not usable: " + s.unusable +
                               "; berthd starts, and calls to it answer 503");
        }
        clients.push_back(std::move(s));
    }
    return clients;
}

std::vector<std::string> clientKeyNames() {
    return kKeys;
}

}  // namespace berth::server
