#pragma once
// Finds the plugin files, loads and checks them, orders them by their requirements, runs
// configure → start, mounts their routes, and later stops and unloads them in reverse.
// A broken plugin is logged with its file and reason and skipped — or, under
// plugins.on_failure = abort, ends start-up with that message.

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../migrate/migration_plan.h"
#include "berth/json.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class RouteTable;
class CacheRegistry;
class ClientRegistry;
class DatabaseRegistry;

struct PluginManagerSettings {
    std::string pluginsDir;
    std::string confDir;  // conf/plugins.d
    bool abortOnFailure = false;
};

/// Thrown by startAll() under on_failure = abort; what() names the plugin file and the reason.
class PluginStartupError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct PluginFailure {
    std::string file;
    std::string plugin;  // empty when the file never told its name
    std::string reason;
    std::string describe() const;
};

class PluginManager {
  public:
    /// `databases` (may be null) is what the plugins' Context::db() hands out, `caches` (may be
    /// null) their Context::cache(), `clients` (may be null) their Context::http(); all must outlive
    /// the manager.
    PluginManager(PluginManagerSettings settings, RouteTable& routes, Poco::Logger& logger,
                  const DatabaseRegistry* databases = nullptr, CacheRegistry* caches = nullptr,
                  const ClientRegistry* clients = nullptr);
    ~PluginManager();
    PluginManager(const PluginManager&) = delete;
    PluginManager& operator=(const PluginManager&) = delete;

    /// Called after each plugin's configure() and before its start() with the migrations it
    /// declared (auto_migrate); an exception refuses the plugin with its message, except a
    /// PluginStartupError, which ends startAll() (it propagates).
    using MigrationHook = std::function<void(const std::string& plugin, const std::vector<Migration>&)>;
    void setMigrationHook(MigrationHook hook) { migrationHook_ = std::move(hook); }

    void startAll();
    /// For `berthd migrate`: load → configure every enabled plugin, in start order, without
    /// start() (no routes); returns what each declared. stopAll() then destroys and unloads them.
    std::vector<PluginMigrations> configureAll();
    /// Reverse start order: stop(), then the routes are unmounted, then destroy and unload.
    void stopAll();
    /// What --check-config reports: every problem, found without running plugin code
    /// beyond each file's entry point (no configure, no start).
    std::vector<std::string> check();

    const std::vector<PluginFailure>& failures() const noexcept { return failures_; }
    /// For GET /plugins: name, version, prefix, file, routes of each started plugin, in start order.
    Json describe() const;
    std::size_t startedCount() const noexcept;
    /// Names of the started plugins, in start order (for /ready).
    std::vector<std::string> startedNames() const;

  private:
    struct Loaded;
    std::vector<std::unique_ptr<Loaded>> loadAll();
    void bringUp(bool start);
    void refuse(const std::string& file, const std::string& plugin, const std::string& reason);

    PluginManagerSettings settings_;
    RouteTable& routes_;
    Poco::Logger& logger_;
    const DatabaseRegistry* databases_;
    CacheRegistry* caches_;
    const ClientRegistry* clients_;
    std::vector<std::unique_ptr<Loaded>> started_;  // in start order
    std::vector<PluginFailure> failures_;
    MigrationHook migrationHook_;
};

}  // namespace berth::server
