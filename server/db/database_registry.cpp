#include "database_registry.h"

#include <Poco/Logger.h>

#include <stdexcept>

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

namespace {

std::string labels(const std::string& database, const PoolStats& pool, const char* role) {
    return "database=\"" + database + "\",role=\"" + role + "\",endpoint=\"" +
           pool.endpoint.substr(pool.endpoint.rfind(' ') + 1) + "\"";
}

}  // namespace

void DatabaseRegistry::renderMetrics(std::string& out) const {
    if (databases_.empty()) return;
    std::vector<DatabaseStats> all = stats();
    // Each family's samples stay together, as the Prometheus text format wants.
    auto family = [&](const char* name, const char* type, const char* help, auto value) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
        for (const DatabaseStats& db : all) {
            std::vector<std::pair<const PoolStats*, const char*>> pools;
            if (!db.primary.endpoint.empty()) pools.emplace_back(&db.primary, "primary");
            for (const PoolStats& replica : db.replicas) pools.emplace_back(&replica, "replica");
            for (const auto& [pool, role] : pools) value(db, *pool, labels(db.name, *pool, role));
        }
    };
    family("berth_db_connections", "gauge", "Pooled PostgreSQL connections by state.",
           [&](const DatabaseStats&, const PoolStats& p, const std::string& l) {
               out += "berth_db_connections{" + l + ",state=\"in_use\"} " + std::to_string(p.inUse) + "\n";
               out += "berth_db_connections{" + l + ",state=\"idle\"} " + std::to_string(p.idle) + "\n";
           });
    family("berth_db_waiting", "gauge", "Callers waiting for a free connection.",
           [&](const DatabaseStats&, const PoolStats& p, const std::string& l) {
               out += "berth_db_waiting{" + l + "} " + std::to_string(p.waiting) + "\n";
           });
    family("berth_db_connections_created_total", "counter", "Connections opened.",
           [&](const DatabaseStats&, const PoolStats& p, const std::string& l) {
               out += "berth_db_connections_created_total{" + l + "} " + std::to_string(p.created) + "\n";
           });
    family("berth_db_errors_total", "counter", "Failed connects, lost connections and pool timeouts.",
           [&](const DatabaseStats&, const PoolStats& p, const std::string& l) {
               out += "berth_db_errors_total{" + l + "} " + std::to_string(p.errors) + "\n";
           });
    family("berth_db_pool_timeouts_total", "counter", "Requests that found no free connection in time.",
           [&](const DatabaseStats&, const PoolStats& p, const std::string& l) {
               out += "berth_db_pool_timeouts_total{" + l + "} " + std::to_string(p.timeouts) + "\n";
           });
    out += "# HELP berth_db_replica_fallbacks_total Reads sent to the primary because no replica answered.\n";
    out += "# TYPE berth_db_replica_fallbacks_total counter\n";
    for (const DatabaseStats& db : all)
        out += "berth_db_replica_fallbacks_total{database=\"" + db.name + "\"} " +
               std::to_string(db.replicaFallbacks) + "\n";
}

}  // namespace berth::server
