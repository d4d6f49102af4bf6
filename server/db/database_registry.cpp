#include "database_registry.h"

#include <Poco/Logger.h>

#include <stdexcept>

#include "../observe/prometheus_text.h"

namespace berth::server {

DatabaseRegistry::DatabaseRegistry(const std::vector<DatabaseSettings>& settings, Poco::Logger& logger)
    : logger_(logger) {
    for (const DatabaseSettings& db : settings)
        databases_.emplace(db.name, std::make_unique<HostDatabase>(db, logger));
}

DatabaseRegistry::~DatabaseRegistry() = default;

std::string DatabaseRegistry::names() const {
    std::string out;
    for (const auto& [name, db] : databases_) out += (out.empty() ? "'" : ", '") + name + "'";
    return out.empty() ? "none" : out;
}

Database& DatabaseRegistry::get(std::string_view name) const {
    auto it = databases_.find(name);
    if (it == databases_.end())
        throw std::invalid_argument("no database '" + std::string(name) +
                                    "' in berth.properties (db.<name>.host …); configured: " + names());
    return *it->second;
}

void DatabaseRegistry::probeAll() {
    for (const auto& [name, db] : databases_) {
        std::string reason;
        if (db->probe(reason))
            logger_.information("database '%s': connected to %s, pool %d–%d", name,
                                db->settings().primary.describe(), db->settings().poolMin,
                                db->settings().poolMax);
        else
            logger_.warning(
                "database '%s' is unavailable at start (%s): requests that use it get 503 until it "
                "answers; berthd reconnects by itself",
                name, reason);
    }
}

std::vector<DatabaseStats> DatabaseRegistry::stats() const {
    std::vector<DatabaseStats> out;
    for (const auto& [name, db] : databases_) out.push_back(db->stats());
    return out;
}

void DatabaseRegistry::renderMetrics(PrometheusText& text) const {
    if (databases_.empty()) return;
    std::vector<DatabaseStats> all = stats();
    // Each family's samples stay together, as the Prometheus text format wants.
    auto family = [&](const char* name, const char* type, const char* help, auto value) {
        text.family(name, type, help);
        for (const DatabaseStats& db : all) {
            std::vector<std::pair<const PoolStats*, const char*>> pools;
            if (!db.primary.endpoint.empty()) pools.emplace_back(&db.primary, "primary");
            for (const PoolStats& replica : db.replicas) pools.emplace_back(&replica, "replica");
            for (const auto& [pool, role] : pools) {
                const std::string& label = pool->endpoint;
                auto sample = [&, role = role](const char* sampleName) -> PrometheusText& {
                    return text.sample(sampleName)
                        .label("database", db.name)
                        .label("role", role)
                        .label("endpoint", label.substr(label.rfind(' ') + 1));
                };
                value(*pool, sample);
            }
        }
    };
    family("berth_db_connections", "gauge", "Pooled PostgreSQL connections by state.",
           [](const PoolStats& p, auto sample) {
               sample("berth_db_connections").label("state", "in_use").value(p.inUse);
               sample("berth_db_connections").label("state", "idle").value(p.idle);
           });
    family(
        "berth_db_pool_max_connections", "gauge", "Most connections the pool opens (db.<name>.pool_max).",
        [](const PoolStats& p, auto sample) { sample("berth_db_pool_max_connections").value(p.capacity); });
    family("berth_db_waiting", "gauge", "Callers waiting for a free connection.",
           [](const PoolStats& p, auto sample) { sample("berth_db_waiting").value(p.waiting); });
    family("berth_db_connections_created_total", "counter", "Connections opened.",
           [](const PoolStats& p, auto sample) {
               sample("berth_db_connections_created_total").value(p.created);
           });
    family("berth_db_connect_failures_total", "counter", "Connection attempts that failed.",
           [](const PoolStats& p, auto sample) {
               sample("berth_db_connect_failures_total").value(p.connectFailures);
           });
    family("berth_db_errors_total", "counter", "Failed connects, lost connections and pool timeouts.",
           [](const PoolStats& p, auto sample) { sample("berth_db_errors_total").value(p.errors); });
    family("berth_db_pool_timeouts_total", "counter", "Requests that found no free connection in time.",
           [](const PoolStats& p, auto sample) { sample("berth_db_pool_timeouts_total").value(p.timeouts); });
    text.family("berth_db_replica_fallbacks_total", "counter",
                "Reads sent to the primary because no replica answered.");
    for (const DatabaseStats& db : all)
        text.sample("berth_db_replica_fallbacks_total").label("database", db.name).value(db.replicaFallbacks);
}

void DatabaseRegistry::renderMetrics(std::string& out) const {
    PrometheusText text(out);
    renderMetrics(text);
}

std::vector<ReadinessCheck::Part> DatabaseRegistry::readinessParts(bool strict) const {
    std::vector<ReadinessCheck::Part> parts;
    for (const auto& [name, db] : databases_) {
        if (ConnectionPool* primary = db->primaryPool()) {
            parts.push_back(
                {"db." + name, true, true, [primary](int timeoutMs) { return primary->ping(timeoutMs); }});
        } else {
            std::string reason = "unusable: " + db->settings().unusable;
            parts.push_back({"db." + name, true, false, [reason](int) { return reason; }});
        }
        for (ConnectionPool* replica : db->replicaPools()) {
            const std::string& label = replica->settings().label;
            parts.push_back({"db." + name + ".replica." + label.substr(label.rfind(' ') + 1), strict, true,
                             [replica](int timeoutMs) { return replica->ping(timeoutMs); }});
        }
    }
    return parts;
}

}  // namespace berth::server
