#pragma once
// Every downstream service of conf/berth.properties (clients.<service>.*), made once at start and
// shared by all plugins (Context::http(name)): one HostHttpClient, so one connection pool, per
// service for the whole process. Statistics for /metrics.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client_settings.h"
#include "host_http_client.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class PrometheusText;

class ClientRegistry {
  public:
    /// Throws std::runtime_error naming the service when an https client cannot be set up (its
    /// ca_file does not load).
    ClientRegistry(const std::vector<ClientSettings>& settings, Poco::Logger& logger);
    ~ClientRegistry();
    ClientRegistry(const ClientRegistry&) = delete;
    ClientRegistry& operator=(const ClientRegistry&) = delete;

    /// Throws std::invalid_argument naming the configured services when `name` is not one.
    HttpClient& get(std::string_view name) const;
    /// "'city-service', 'hospital-service'" or "none".
    std::string names() const;

    /// Prometheus text: berth_http_client_connections{service,state} and the counters.
    void renderMetrics(PrometheusText& text) const;

  private:
    std::map<std::string, std::unique_ptr<HostHttpClient>, std::less<>> clients_;
};

}  // namespace berth::server
