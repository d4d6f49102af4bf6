#pragma once
// conf/berth.properties, read and checked in one place. Every problem is collected (not just
// the first), so --check-config can print them all at once.

#include <string>
#include <vector>

#include "../cache/cache_settings.h"
#include "../client/client_settings.h"
#include "../db/database_settings.h"
#include "../fanout/fanout_settings.h"
#include "../http/cors_policy.h"
#include "../http/engine_settings.h"
#include "../http/pipeline.h"
#include "../plugin/plugin_manager.h"
#include "../trace/trace_settings.h"

namespace Poco::Util {
class AbstractConfiguration;
}

namespace berth::server {

struct ServerConfig {
    EngineSettings engine;
    HttpLimits limits;
    CorsSettings cors;
    PluginManagerSettings plugins;
    struct AccessLogSettings {
        bool enabled = true;
        std::string file;
        std::size_t rotateBytes = 100 * 1024 * 1024;
        int keep = 5;
    } accessLog;
    /// server.ready_* — what GET /ready waits for and what makes it 503.
    struct ReadySettings {
        int timeoutMs = 500;  // server.ready_timeout_ms: every ping answers within this, or fails
        bool strict = false;  // server.ready_strict: Redis and replicas count as well (else "degraded")
    } ready;
    /// migrate.* — how auto_migrate and `berthd migrate` wait.
    struct MigrateSettings {
        int dbWaitS = 30;       // migrate.db_wait_s: auto_migrate retries an unreachable database
        int lockTimeoutS = 60;  // migrate.lock_timeout_s: waiting for the migration lock
    } migrate;
    /// db.<name>.* — see server/db/database_settings.h.
    std::vector<DatabaseSettings> databases;
    /// redis.* — see server/cache/cache_settings.h.
    CacheSettings cache;
    /// tracing.* — see server/trace/trace_settings.h.
    TraceSettings tracing;
    /// clients.<service>.* — see server/client/client_settings.h.
    std::vector<ClientSettings> clients;
    /// fanout.* — the executor behind berth::gather.
    FanOutSettings fanout;
    /// Worth telling but not a reason to refuse to start (--check-config prints them as warnings).
    std::vector<std::string> warnings;

    /// Relative paths (plugins.dir, plugins.conf_dir) are resolved against `confDir`, the folder
    /// of berth.properties, so berthd does not depend on its working directory.
    static ServerConfig load(const Poco::Util::AbstractConfiguration& config, const std::string& confDir,
                             std::vector<std::string>& problems);

    /// Every key load() reads, so that a test can hold the shipped conf/berth.properties to them.
    static std::vector<std::string> keys();
    /// The keys every database reads under db.<name>. ("host", "port", …).
    static std::vector<std::string> databaseKeys();
    /// The keys every downstream service reads under clients.<service>. ("url", …).
    static std::vector<std::string> clientKeys();
};

}  // namespace berth::server
