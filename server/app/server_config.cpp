#include "server_config.h"

#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/Path.h>
#include <Poco/String.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <set>

#include "strict_number.h"

namespace berth::server {
namespace {

class Reader {
  public:
    Reader(const Poco::Util::AbstractConfiguration& config, std::vector<std::string>& problems)
        : config_(config), problems_(problems) {}

    std::string text(const std::string& key, const std::string& fallback) {
        known_.insert(key);
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
        known_.insert(key);
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

    std::vector<std::string> list(const std::string& key, std::vector<std::string> fallback) {
        known_.insert(key);
        if (!config_.hasProperty(key)) return fallback;
        return splitList(text(key, ""));
    }

    bool boolean(const std::string& key, bool fallback) {
        known_.insert(key);
        if (!config_.hasProperty(key)) return fallback;
        std::string raw = Poco::toLower(text(key, ""));
        if (raw == "true" || raw == "yes" || raw == "on" || raw == "1") return true;
        if (raw == "false" || raw == "no" || raw == "off" || raw == "0") return false;
        problems_.push_back(key + " = '" + raw + "' is not a boolean (true/false)");
        return fallback;
    }

    const std::set<std::string>& known() const noexcept { return known_; }

    /// Call after every read: a key in `section` that nothing read is a typo worth reporting.
    void reportUnknownKeys(const std::string& section) {
        Poco::Util::AbstractConfiguration::Keys keys;
        config_.keys(section, keys);
        for (const std::string& key : keys) {
            std::string full = section + "." + key;
            if (known_.count(full) == 0)
                problems_.push_back(full +
                                    " is not a berthd setting (see the comments in conf/berth.properties)");
        }
    }

  private:
    const Poco::Util::AbstractConfiguration& config_;
    std::vector<std::string>& problems_;
    std::set<std::string> known_;
};

std::string resolve(const std::string& confDir, const std::string& path) {
    Poco::Path p(path);
    if (p.isAbsolute()) return p.toString();
    return Poco::Path(Poco::Path(confDir).makeDirectory()).resolve(p).toString();
}

}  // namespace

namespace {

ServerConfig loadInto(Reader& read, const Poco::Util::AbstractConfiguration& config,
                      const std::string& confDir, std::vector<std::string>& problems) {
    ServerConfig c;

    EngineSettings& e = c.engine;
    e.address = read.text("server.address", e.address);
    if (e.address.empty()) problems.push_back("server.address is empty");
    e.port = static_cast<int>(read.integer("server.port", e.port, 0, 65535));
    e.ioThreads = static_cast<int>(read.integer("server.io_threads", e.ioThreads, 0, 256));
    e.workerThreads = static_cast<int>(read.integer("server.worker_threads", e.workerThreads, 1, 1024));
    e.maxQueued = static_cast<std::size_t>(
        read.integer("server.max_queued", static_cast<long long>(e.maxQueued), 1, 1000000));
    e.maxConnections = static_cast<std::size_t>(
        read.integer("server.max_connections", static_cast<long long>(e.maxConnections), 1, 10000000));
    auto seconds = [&](const char* key, int& milliseconds, long long max) {
        milliseconds = static_cast<int>(read.integer(key, milliseconds / 1000, 1, max) * 1000);
    };
    seconds("server.keep_alive_timeout", e.idleTimeoutMs, 3600);
    seconds("server.shutdown_timeout", e.shutdownTimeoutMs, 3600);
    seconds("http.header_timeout", e.headerTimeoutMs, 3600);
    seconds("http.body_timeout", e.bodyTimeoutMs, 3600);
    seconds("http.handler_timeout", e.handlerTimeoutMs, 86400);
    c.ready.timeoutMs =
        static_cast<int>(read.integer("server.ready_timeout_ms", c.ready.timeoutMs, 1, 60000));
    c.ready.strict = read.boolean("server.ready_strict", c.ready.strict);

    c.plugins.pluginsDir = resolve(confDir, read.text("plugins.dir", "plugins"));
    c.plugins.confDir = resolve(confDir, read.text("plugins.conf_dir", "plugins.d"));
    std::string onFailure = Poco::toLower(read.text("plugins.on_failure", "skip"));
    if (onFailure == "abort")
        c.plugins.abortOnFailure = true;
    else if (onFailure != "skip")
        problems.push_back("plugins.on_failure = '" + onFailure + "' must be 'skip' or 'abort'");

    c.limits.maxBodyBytes = static_cast<std::size_t>(
        read.integer("http.max_body_bytes", static_cast<long long>(c.limits.maxBodyBytes), 0, 1LL << 30));
    c.limits.maxHeaderBytes = static_cast<std::size_t>(
        read.integer("http.max_header_bytes", static_cast<long long>(c.limits.maxHeaderBytes), 256, 1 << 20));
    c.limits.maxHeaderCount = static_cast<std::size_t>(
        read.integer("http.max_header_count", static_cast<long long>(c.limits.maxHeaderCount), 1, 10000));

    c.cors.allowedOrigins = read.list("cors.allowed_origins", c.cors.allowedOrigins);
    c.cors.allowedMethods = read.list("cors.allowed_methods", c.cors.allowedMethods);
    c.cors.allowedHeaders = read.list("cors.allowed_headers", c.cors.allowedHeaders);
    c.cors.exposedHeaders = read.list("cors.exposed_headers", c.cors.exposedHeaders);
    c.accessLog.enabled = read.boolean("http.access_log", c.accessLog.enabled);
    c.accessLog.file = resolve(confDir, read.text("http.access_log_file", "../logs/access.log"));
    c.accessLog.rotateBytes = static_cast<std::size_t>(read.integer(
        "http.access_log_rotate_bytes", static_cast<long long>(c.accessLog.rotateBytes), 0, 1LL << 40));
    c.accessLog.keep = static_cast<int>(read.integer("http.access_log_keep", c.accessLog.keep, 0, 1000));
    c.cors.allowCredentials = read.boolean("cors.allow_credentials", c.cors.allowCredentials);
    c.cors.maxAgeSeconds = static_cast<int>(read.integer("cors.max_age", c.cors.maxAgeSeconds, 0, 86400));
    for (const std::string& origin : c.cors.allowedOrigins)
        if (origin != "*" && origin.find("://") == std::string::npos)
            problems.push_back("cors.allowed_origins: '" + origin +
                               "' is not an origin like https://app.example.com");
    c.migrate.dbWaitS = static_cast<int>(read.integer("migrate.db_wait_s", c.migrate.dbWaitS, 0, 3600));
    c.migrate.lockTimeoutS =
        static_cast<int>(read.integer("migrate.lock_timeout_s", c.migrate.lockTimeoutS, 0, 86400));
    c.fanout.threads = static_cast<int>(read.integer("fanout.threads", c.fanout.threads, 1, 1024));
    c.fanout.maxQueued = static_cast<int>(read.integer("fanout.max_queued", c.fanout.maxQueued, 1, 1000000));
    for (const char* section : {"server", "plugins", "http", "cors", "migrate", "fanout"})
        read.reportUnknownKeys(section);
    c.databases = loadDatabaseSettings(config, problems, c.warnings);
    c.cache = loadCacheSettings(config, problems, c.warnings);
    c.tracing = loadTraceSettings(config, confDir, problems);
    c.clients = loadClientSettings(config, problems, c.warnings);
    return c;
}

}  // namespace

ServerConfig ServerConfig::load(const Poco::Util::AbstractConfiguration& config, const std::string& confDir,
                                std::vector<std::string>& problems) {
    Reader read(config, problems);
    return loadInto(read, config, confDir, problems);
}

std::vector<std::string> ServerConfig::keys() {
    Poco::AutoPtr<Poco::Util::MapConfiguration> empty(new Poco::Util::MapConfiguration);
    std::vector<std::string> problems;
    Reader read(*empty, problems);
    (void)loadInto(read, *empty, "/", problems);
    std::vector<std::string> keys(read.known().begin(), read.known().end());
    for (const std::string& key : cacheKeyNames()) keys.push_back("redis." + key);
    for (const std::string& key : traceKeyNames()) keys.push_back("tracing." + key);
    return keys;
}

std::vector<std::string> ServerConfig::databaseKeys() {
    return databaseKeyNames();
}

std::vector<std::string> ServerConfig::clientKeys() {
    return clientKeyNames();
}

}  // namespace berth::server
