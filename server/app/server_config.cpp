#include "server_config.h"

#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/Path.h>
#include <Poco/String.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <set>

#include "strict_number.h"

namespace berth::server {
namespace {

// Every key berthd reads from these sections; anything else there is a typo worth reporting.
const std::set<std::string> kKnownKeys = {
    "server.address",
    "server.port",
    "server.worker_threads",
    "server.max_queued",
    "server.keep_alive_timeout",
    "plugins.dir",
    "plugins.conf_dir",
    "plugins.on_failure",
    "http.max_body_bytes",
    "http.max_header_bytes",
    "http.max_header_count",
    "cors.allowed_origins",
    "cors.allowed_methods",
    "cors.allowed_headers",
    "cors.exposed_headers",
    "cors.allow_credentials",
    "cors.max_age",
};

class Reader {
  public:
    Reader(const Poco::Util::AbstractConfiguration& config, std::vector<std::string>& problems)
        : config_(config), problems_(problems) {}

    std::string text(const std::string& key, const std::string& fallback) {
        try {
            std::string value = Poco::trim(config_.getString(key, fallback));
            // Poco leaves an undefined ${...} as it is; a server listening on "${system.env.X}"
            // helps nobody.
            std::size_t open = value.find("${");
            if (open != std::string::npos) {
                problems_.push_back(key + ": " + value.substr(open, value.find('}', open) - open + 1) +
                                    " is not defined (is the environment variable set?)");
                return fallback;
            }
            return value;
        } catch (const Poco::Exception& e) {
            problems_.push_back(key + ": " + e.displayText());
            return fallback;
        }
    }

    long long integer(const std::string& key, long long fallback, long long min, long long max) {
        if (!config_.hasProperty(key)) return fallback;
        std::string raw = text(key, "");
        Poco::Int64 value = 0;
        if (!internal::parseStrictInt64(raw, value)) {
            problems_.push_back(key + " = '" + raw + "' is not an integer");
            return fallback;
        }
        if (value < min || value > max) {
            problems_.push_back(key + " = " + raw + " is out of range [" + std::to_string(min) + ", " +
                                std::to_string(max) + "]");
            return fallback;
        }
        return value;
    }

    bool boolean(const std::string& key, bool fallback) {
        if (!config_.hasProperty(key)) return fallback;
        std::string raw = Poco::toLower(text(key, ""));
        if (raw == "true" || raw == "yes" || raw == "on" || raw == "1") return true;
        if (raw == "false" || raw == "no" || raw == "off" || raw == "0") return false;
        problems_.push_back(key + " = '" + raw + "' is not a boolean (true/false)");
        return fallback;
    }

    void unknownKeys(const std::string& section) {
        Poco::Util::AbstractConfiguration::Keys keys;
        config_.keys(section, keys);
        for (const std::string& key : keys) {
            std::string full = section + "." + key;
            if (kKnownKeys.count(full) == 0)
                problems_.push_back(full +
                                    " is not a berthd setting (see the comments in conf/berth.properties)");
        }
    }

  private:
    const Poco::Util::AbstractConfiguration& config_;
    std::vector<std::string>& problems_;
};

std::string resolve(const std::string& confDir, const std::string& path) {
    Poco::Path p(path);
    if (p.isAbsolute()) return p.toString();
    return Poco::Path(Poco::Path(confDir).makeDirectory()).resolve(p).toString();
}

}  // namespace

ServerConfig ServerConfig::load(const Poco::Util::AbstractConfiguration& config, const std::string& confDir,
                                std::vector<std::string>& problems) {
    ServerConfig c;
    Reader read(config, problems);
    for (const char* section : {"server", "plugins", "http", "cors"}) read.unknownKeys(section);

    c.transport.address = read.text("server.address", c.transport.address);
    if (c.transport.address.empty()) problems.push_back("server.address is empty");
    c.transport.port = static_cast<int>(read.integer("server.port", c.transport.port, 0, 65535));
    c.transport.workerThreads =
        static_cast<int>(read.integer("server.worker_threads", c.transport.workerThreads, 1, 1024));
    c.transport.maxQueued =
        static_cast<int>(read.integer("server.max_queued", c.transport.maxQueued, 1, 100000));
    c.transport.keepAliveTimeoutSeconds = static_cast<int>(
        read.integer("server.keep_alive_timeout", c.transport.keepAliveTimeoutSeconds, 1, 3600));

    c.plugins.pluginsDir = resolve(confDir, read.text("plugins.dir", "plugins"));
    c.plugins.confDir = resolve(confDir, read.text("plugins.conf_dir", "plugins.d"));
    std::string onFailure = Poco::toLower(read.text("plugins.on_failure", "skip"));
    if (onFailure == "abort")
        c.plugins.abortOnFailure = true;
    else if (onFailure != "skip")
        problems.push_back("plugins.on_failure = '" + onFailure + "' must be 'skip' or 'abort'");

    c.limits.maxBodyBytes = static_cast<std::size_t>(
        read.integer("http.max_body_bytes", static_cast<long long>(c.limits.maxBodyBytes), 0, 1LL << 30));
    // Poco's parser, under the foundation's transport, refuses more than 100 fields or a field
    // over 8 KiB with its own 400; below those our limits answer 431.
    c.limits.maxHeaderBytes = static_cast<std::size_t>(
        read.integer("http.max_header_bytes", static_cast<long long>(c.limits.maxHeaderBytes), 256, 1 << 20));
    c.limits.maxHeaderCount = static_cast<std::size_t>(
        read.integer("http.max_header_count", static_cast<long long>(c.limits.maxHeaderCount), 1, 100));

    c.cors.allowedOrigins = splitList(read.text("cors.allowed_origins", ""));
    if (config.hasProperty("cors.allowed_methods"))
        c.cors.allowedMethods = splitList(read.text("cors.allowed_methods", ""));
    if (config.hasProperty("cors.allowed_headers"))
        c.cors.allowedHeaders = splitList(read.text("cors.allowed_headers", ""));
    if (config.hasProperty("cors.exposed_headers"))
        c.cors.exposedHeaders = splitList(read.text("cors.exposed_headers", ""));
    c.cors.allowCredentials = read.boolean("cors.allow_credentials", c.cors.allowCredentials);
    c.cors.maxAgeSeconds = static_cast<int>(read.integer("cors.max_age", c.cors.maxAgeSeconds, 0, 86400));
    for (const std::string& origin : c.cors.allowedOrigins)
        if (origin != "*" && origin.find("://") == std::string::npos)
            problems.push_back("cors.allowed_origins: '" + origin +
                               "' is not an origin like https://app.example.com");
    return c;
}

}  // namespace berth::server
