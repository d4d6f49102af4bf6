#pragma once
// The downstream HTTP services of conf/berth.properties: clients.<service>.url, .connect_timeout_ms,
// .read_timeout_ms, .pool_size, .pool_wait_ms, .idle_timeout_ms, .retries, .retry_backoff_ms,
// .max_response_bytes, .ca_file.
// Read and checked here; the keys are documented in conf/berth.properties.

#include <string>
#include <vector>

namespace Poco::Util {
class AbstractConfiguration;
}

namespace berth::server {

struct ClientSettings {
    std::string name;  // the service, as plugins name it: ctx.http("hospital-service")
    std::string url;   // as configured
    bool https = false;
    std::string host;
    int port = 80;
    std::string basePath;  // the url's path without a trailing '/', put in front of every call's path
    int connectTimeoutMs = 1000;
    int readTimeoutMs = 5000;
    int poolSize = 16;
    int poolWaitMs = 1000;
    int idleTimeoutMs = 4000;  // below the usual servers' keep-alive timeouts (nginx 75 s, berthd 15 s)
    int retries = 2;
    int retryBackoffMs = 50;
    int maxResponseBytes = 16 * 1024 * 1024;
    std::string caFile;  // https: a PEM file of trusted certificates besides the system's
    /// Non-empty when the service cannot be used as configured (a ${system.env.X} that is not
    /// defined): berthd still starts, warns, and calls to it answer 503.
    std::string unusable;

    /// "http://10.0.0.5:8081/api" (what berthd calls), or the unusable reason's key.
    std::string describe() const;
};

/// Every clients.<service>.* key; problems and warnings are appended (warnings do not stop berthd).
std::vector<ClientSettings> loadClientSettings(const Poco::Util::AbstractConfiguration& config,
                                               std::vector<std::string>& problems,
                                               std::vector<std::string>& warnings);

/// The key names under clients.<service>. ("url", "connect_timeout_ms", …), for the documentation test.
std::vector<std::string> clientKeyNames();

}  // namespace berth::server
