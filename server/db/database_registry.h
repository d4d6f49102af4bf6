#pragma once
// Every named database of conf/berth.properties, made once at start and shared by all plugins
// (Context::db(name)). Pools connect lazily: a database that is down at start is a warning, not a
// reason to refuse to serve. Statistics for /metrics, pings for /ready.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../observe/readiness_check.h"
#include "database_settings.h"
#include "host_database.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class PrometheusText;

class DatabaseRegistry {
  public:
    DatabaseRegistry(const std::vector<DatabaseSettings>& settings, Poco::Logger& logger);
    ~DatabaseRegistry();
    DatabaseRegistry(const DatabaseRegistry&) = delete;
    DatabaseRegistry& operator=(const DatabaseRegistry&) = delete;

    /// Throws std::invalid_argument naming the configured databases when `name` is not one.
    Database& get(std::string_view name) const;
    /// "'main', 'reports'" or "none".
    std::string names() const;
    bool empty() const noexcept { return databases_.empty(); }

    /// Tries one connection to each primary and logs the outcome (a warning when it fails).
    void probeAll();
    std::vector<DatabaseStats> stats() const;
    /// Prometheus text: berth_db_connections{database,role,endpoint,state}, the pool sizes and the counters.
    void renderMetrics(PrometheusText& text) const;
    void renderMetrics(std::string& out) const;
    /// For /ready, one part per pool: "db.<name>" (the primary; required) and
    /// "db.<name>.replica.<host:port>" (required only when `strict`: a replica's reads fall back to
    /// the primary). An unusable database (an undefined ${...}) is a failing "db.<name>".
    std::vector<ReadinessCheck::Part> readinessParts(bool strict) const;

  private:
    Poco::Logger& logger_;
    std::map<std::string, std::unique_ptr<HostDatabase>, std::less<>> databases_;
};

}  // namespace berth::server
