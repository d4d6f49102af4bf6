#include "client_registry.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include <stdexcept>

#include "../observe/prometheus_text.h"

namespace berth::server {

ClientRegistry::ClientRegistry(const std::vector<ClientSettings>& settings, Poco::Logger& logger) {
    for (const ClientSettings& s : settings) {
        try {
            clients_.emplace(s.name, std::make_unique<HostHttpClient>(s, logger));
        } catch (const Poco::Exception& e) {
            throw std::runtime_error("clients." + s.name + ": cannot set up https (" + e.displayText() +
                                     "); check clients." + s.name + ".ca_file");
        }
        if (s.unusable.empty())
            logger.information("service '%s' at %s (pool of %d)", s.name, s.describe(), s.poolSize);
    }
}

ClientRegistry::~ClientRegistry() = default;

HttpClient& ClientRegistry::get(std::string_view name) const {
    auto found = clients_.find(name);
    if (found == clients_.end())
        throw std::invalid_argument(
            "no service '" + std::string(name) +
            "' in berth.properties (clients.<service>.url …); configured: " + names());
    return *found->second;
}

std::string ClientRegistry::names() const {
    if (clients_.empty()) return "none";
    std::string out;
    for (const auto& [name, client] : clients_) out += (out.empty() ? "'" : ", '") + name + "'";
    return out;
}

void ClientRegistry::renderMetrics(PrometheusText& text) const {
    if (clients_.empty()) return;
    std::vector<std::pair<const std::string*, SessionPool::Stats>> pools;
    for (const auto& [name, client] : clients_) pools.emplace_back(&name, client->poolStats());
    text.family("berth_http_client_connections", "gauge",
                "Connections to downstream services (clients.<service>).");
    for (const auto& [name, s] : pools) {
        text.sample("berth_http_client_connections").label("service", *name).label("state", "in_use");
        text.value(static_cast<std::uint64_t>(s.open - s.idle));
        text.sample("berth_http_client_connections").label("service", *name).label("state", "idle");
        text.value(static_cast<std::uint64_t>(s.idle));
    }
    text.family("berth_http_client_connections_created_total", "counter",
                "Connections opened to downstream services.");
    for (const auto& [name, s] : pools)
        text.sample("berth_http_client_connections_created_total").label("service", *name).value(s.created);
    text.family("berth_http_client_connections_dropped_total", "counter",
                "Connections closed after a failed call, or found closed or expired while idle.");
    for (const auto& [name, s] : pools)
        text.sample("berth_http_client_connections_dropped_total").label("service", *name).value(s.dropped);
}

}  // namespace berth::server
