#include "host.h"

#include <Poco/Logger.h>
#include <Poco/Path.h>
#include <sysexits.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <thread>

#include "../cache/cache_registry.h"
#include "../client/client_registry.h"
#include "../db/database_registry.h"
#include "../fanout/fanout_executor.h"
#include "../http/http_engine.h"
#include "../http/pipeline.h"
#include "../http/route_table.h"
#include "../migrate/migrator.h"
#include "../observe/access_log.h"
#include "../observe/metrics_page.h"
#include "../observe/prometheus_text.h"
#include "../observe/readiness_check.h"
#include "../observe/request_metrics.h"
#include "../plugin/plugin_manager.h"
#include "../trace/tracing.h"
#include "berth/plugin.h"

namespace berth::server {
namespace {

constexpr int kReadyCacheMs = 1000;  // a burst of /ready probes pings each pool once

bool sleepWithoutStop(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return false;
}

// berth::gather's executor while the host serves; cleared before the executor is destroyed.
struct RunnerInstalled {
    explicit RunnerInstalled(FanOutRunner* runner) { setFanOutRunner(runner); }
    ~RunnerInstalled() { setFanOutRunner(nullptr); }
    RunnerInstalled(const RunnerInstalled&) = delete;
    RunnerInstalled& operator=(const RunnerInstalled&) = delete;
};

}  // namespace

// Declared in the order they are made: destroyed in reverse, the engine first and the databases
// last (the plugins keep references to the registries).
struct Host::Parts {
    std::unique_ptr<DatabaseRegistry> databases;
    std::unique_ptr<CacheRegistry> caches;
    std::unique_ptr<ClientRegistry> clients;
    std::unique_ptr<FanOutExecutor> fanout;
    std::unique_ptr<RunnerInstalled> runner;
    RouteTable routes;
    std::unique_ptr<PluginManager> plugins;
    int startExit = EX_SOFTWARE;  // what a PluginStartupError from the migration hook exits with
    RequestMetrics metrics;
    std::unique_ptr<Tracing> tracing;
    std::unique_ptr<AccessLog> accessLog;
    MetricsPage metricsPage;
    std::unique_ptr<ReadinessCheck> readiness;  // joins its pings after the engine
    std::unique_ptr<HttpPipeline> pipeline;
    HttpEngine* engineForMetrics = nullptr;  // set once the engine exists, before it serves
    std::unique_ptr<HttpEngine> engine;
};

Host::Host(ServerConfig settings, std::string source, Poco::Logger& logger, Pause pause)
    : settings_(std::move(settings)),
      source_(std::move(source)),
      logger_(logger),
      pause_(pause ? std::move(pause) : Pause(sleepWithoutStop)) {}

Host::~Host() {
    stop();
}

int Host::port() const noexcept {
    return parts_ && parts_->engine ? parts_->engine->boundPort() : 0;
}

int Host::start() {
    if (parts_) throw std::logic_error("the host is already serving");
    try {
        return bringUp();
    } catch (...) {
        parts_.reset();  // stops the plugins started so far, then the rest, in reverse order
        throw;
    }
}

int Host::bringUp() {
    Poco::Logger& log = logger_;
    const ServerConfig& settings = settings_;
    auto fail = [&](int exitCode, const std::string& message) {
        if (exitCode == EX_OK)
            log.warning("%s; shutting down", message);
        else
            log.fatal(message);
        return HostStartError(exitCode, message);
    };
    for (const std::string& warning : settings.warnings) log.warning("%s: %s", source_, warning);
    parts_ = std::make_unique<Parts>();
    Parts& p = *parts_;

    // Before the plugins, which keep references to the databases, and destroyed after them.
    p.databases = std::make_unique<DatabaseRegistry>(settings.databases, Poco::Logger::get("berth.db"));
    p.databases->probeAll();
    p.caches = std::make_unique<CacheRegistry>(settings.cache, Poco::Logger::get("berth.cache"));
    p.caches->probe();
    try {
        p.clients = std::make_unique<ClientRegistry>(settings.clients, Poco::Logger::get("berth.clients"));
    } catch (const std::runtime_error& e) {
        throw fail(EX_CONFIG, source_ + ": " + e.what());
    }
    p.fanout = std::make_unique<FanOutExecutor>(settings.fanout, Poco::Logger::get("berth.fanout"));
    p.runner = std::make_unique<RunnerInstalled>(p.fanout.get());

    for (const char* path : kHostPaths) p.routes.reserve(path);
    p.plugins =
        std::make_unique<PluginManager>(settings.plugins, p.routes, Poco::Logger::get("berth.plugins"),
                                        p.databases.get(), p.caches.get(), p.clients.get());
    // db.<name>.auto_migrate: each plugin's pending migrations are applied between its configure()
    // and its start(); a failure (or a changed migration) refuses that plugin. A database that
    // cannot be reached is retried for migrate.db_wait_s, then the start fails with 69 (berthd's
    // service manager restarts it) rather than running without the plugin until the next restart.
    // Every wait goes through the Pause, so that a stop asked for meanwhile ends the start.
    std::vector<DatabaseSettings> autoMigrated;
    for (const DatabaseSettings& db : settings.databases)
        if (db.autoMigrate) autoMigrated.push_back(db);
    if (!autoMigrated.empty()) {
        p.plugins->setMigrationHook([autoMigrated, pause = pause_, &startExit = p.startExit, &settings](
                                        const std::string& plugin, const std::vector<Migration>& declared) {
            std::vector<Migration> mine;
            for (const Migration& m : declared)
                for (const DatabaseSettings& db : autoMigrated)
                    if (m.database == db.name) mine.push_back(m);
            if (mine.empty()) return;
            Poco::Logger& migrateLog = Poco::Logger::get("berth.migrate");
            std::string firstError;
            Migrator migrator(autoMigrated, [&](bool isError, const std::string& line) {
                if (isError) {
                    migrateLog.error("plugin '%s': %s", plugin, line);
                    if (firstError.empty()) firstError = line;
                } else {
                    migrateLog.information("plugin '%s': %s", plugin, line);
                }
            });
            MigrateOptions options;
            options.action = MigrateAction::Up;
            options.plugin = plugin;
            options.lockWait.timeoutS = settings.migrate.lockTimeoutS;
            options.lockWait.pause = pause;
            const auto deadline =
                std::chrono::steady_clock::now() + std::chrono::seconds(settings.migrate.dbWaitS);
            int delayMs = 250;
            for (;;) {
                try {
                    if (migrator.run({{plugin, mine}}, options) != MigrateOutcome::Ok)
                        throw std::runtime_error(firstError);
                    return;
                } catch (const MigrationStopped& e) {
                    migrateLog.warning("plugin '%s': %s; not starting", plugin, std::string(e.what()));
                    startExit = EX_OK;
                    throw PluginStartupError("stop requested while applying the migrations of plugin '" +
                                             plugin + "'");
                } catch (const MigrationDatabaseUnusable& e) {
                    throw std::runtime_error(std::string(e.what()) +
                                             "; fix the setting (or set db.<name>.auto_migrate = false)");
                } catch (const MigrationLockTimeout& e) {
                    startExit = EX_UNAVAILABLE;
                    throw PluginStartupError("plugin '" + plugin + "': " + e.what() +
                                             "; exiting with status 69");
                } catch (const MigrationDatabaseError& e) {
                    if (migrator.outcome() != MigrateOutcome::Ok) throw std::runtime_error(firstError);
                    if (std::chrono::steady_clock::now() + std::chrono::milliseconds(delayMs) > deadline) {
                        startExit = EX_UNAVAILABLE;
                        throw PluginStartupError(
                            "plugin '" + plugin + "': cannot apply its migrations: " + e.what() +
                            "; gave up after migrate.db_wait_s = " +
                            std::to_string(settings.migrate.dbWaitS) +
                            " s, exiting with status 69 (EX_UNAVAILABLE) so that the service manager "
                            "restarts berthd");
                    }
                    migrateLog.warning("plugin '%s': %s; retrying in %d ms (migrate.db_wait_s = %d)", plugin,
                                       std::string(e.what()), delayMs, settings.migrate.dbWaitS);
                    if (pause(delayMs)) {
                        startExit = EX_OK;
                        throw PluginStartupError("stop requested while waiting for the database of plugin '" +
                                                 plugin + "'");
                    }
                    delayMs = std::min(delayMs * 2, 5000);
                }
            }
        });
    }
    try {
        p.plugins->startAll();
    } catch (const PluginStartupError& e) {
        throw fail(p.startExit, e.what());
    }

    for (Mount& mount : p.routes.mounts())
        for (Route& route : mount.routes)
            route.metricsSeries =
                p.metrics.addRoute(mount.plugin, route.pattern.source(), methodName(route.method));
    // tracing.enabled: the span reporter's thread, and the hooks through which the request path, the
    // pools and plugin code record spans (trace/tracing.h).
    if (settings.tracing.enabled) {
        try {
            p.tracing = std::make_unique<Tracing>(settings.tracing, Poco::Logger::get("berth.tracing"));
        } catch (const std::exception& e) {
            throw fail(EX_CANTCREAT, "tracing: " + std::string(e.what()) +
                                         " (set tracing.file, or tracing.enabled = false)");
        }
        log.information("tracing: sampling %s of new traces, reporting to %s",
                        std::to_string(settings.tracing.sampleRate),
                        settings.tracing.zipkinUrl.empty()
                            ? settings.tracing.file
                            : settings.tracing.zipkinUrl +
                                  (settings.tracing.file.empty() ? "" : " and " + settings.tracing.file));
    }
    if (settings.accessLog.enabled) {
        try {
            p.accessLog = std::make_unique<AccessLog>(settings.accessLog.file, settings.accessLog.rotateBytes,
                                                      settings.accessLog.keep);
        } catch (const std::exception& e) {
            throw fail(EX_CANTCREAT, "access log: " + std::string(e.what()) +
                                         " (set http.access_log_file, or http.access_log = false)");
        }
        // A sampled request's server span rides on its access log record (one record and copy per
        // request); the log's writer hands it to the tracer.
        if (p.tracing) p.accessLog->setSpanListener(&p.tracing->reporter());
        p.accessLog->start();
    }

    p.readiness = std::make_unique<ReadinessCheck>(settings.ready.timeoutMs, kReadyCacheMs);
    p.pipeline = std::make_unique<HttpPipeline>(p.routes, CorsPolicy(settings.cors), settings.limits,
                                                Poco::Logger::get("berth.http"));
    HttpPipeline& pipeline = *p.pipeline;
    if (p.tracing) {
        pipeline.setRequestTracer(&p.tracing->requestTracer());
        p.metricsPage.setSpanQueue([reporter = &p.tracing->reporter()] {
            return SpanQueueStats{reporter->queued(), reporter->dropped()};
        });
    }
    pipeline.addHostEndpoint("/health", [] { return Json::object({{"status", "up"}}); });
    pipeline.addHostEndpoint("/plugins", [&p] { return p.plugins->describe(); });
    // GET /metrics: every subsystem's families on one page (the tracing reporter adds its queue
    // with metricsPage.setSpanQueue(...)).
    p.metricsPage.add([&p](PrometheusText& text) { p.metrics.render(text); });
    p.metricsPage.add([&p](PrometheusText& text) { p.databases->renderMetrics(text); });
    p.metricsPage.add([&p](PrometheusText& text) { p.caches->renderMetrics(text.out()); });
    p.metricsPage.add([&p](PrometheusText& text) { p.clients->renderMetrics(text); });
    p.metricsPage.add([&p](PrometheusText& text) { p.fanout->renderMetrics(text); });
    p.metricsPage.add([&p](PrometheusText& text) {
        if (p.engineForMetrics == nullptr) return;
        text.family("berth_io_loop_connections", "gauge", "Open connections served by each I/O loop.");
        std::vector<std::size_t> counts = p.engineForMetrics->loopConnections();
        for (std::size_t i = 0; i < counts.size(); ++i)
            text.sample("berth_io_loop_connections")
                .label("loop", std::to_string(i))
                .value(static_cast<std::uint64_t>(counts[i]));
    });
    if (p.accessLog)
        p.metricsPage.add([writer = p.accessLog.get()](PrometheusText& text) {
            text.family("berth_access_log_dropped_total", "counter",
                        "Access log lines dropped because the writer fell behind.");
            text.sample("berth_access_log_dropped_total")
                .value(static_cast<std::uint64_t>(writer->dropped()));
        });
    pipeline.addHostEndpoint("/metrics",
                             [&p] { return Reply::raw(p.metricsPage.render(), MetricsPage::kContentType); });

    // GET /ready: started plugins, then a ping of every pool (on the pings' own threads), answered on
    // a worker since it waits for them; refused plugins only make it "degraded".
    ReadinessCheck& readiness = *p.readiness;
    for (const std::string& name : p.plugins->startedNames())
        readiness.add({"plugin." + name, true, false, [](int) { return std::string(); }});
    for (const PluginFailure& failure : p.plugins->failures())
        readiness.add(
            {"refused." + (failure.file.empty() ? failure.plugin : Poco::Path(failure.file).getFileName()),
             false, false, [reason = failure.describe()](int) { return reason; }});
    for (ReadinessCheck::Part& part : p.databases->readinessParts(settings.ready.strict))
        readiness.add(std::move(part));
    for (ReadinessCheck::Part& part : p.caches->readinessParts(settings.ready.strict))
        readiness.add(std::move(part));
    pipeline.addBlockingHostEndpoint(
        "/ready", [&readiness](const Request&) -> Reply { return readiness.check().answer(); });

    RequestObservers observers{&p.metrics, p.accessLog.get(), p.tracing ? &p.tracing->queue() : nullptr};
    p.engine =
        std::make_unique<HttpEngine>(settings.engine, pipeline, observers, Poco::Logger::get("berth.http"));
    p.engineForMetrics = p.engine.get();
    try {
        p.engine->start();
    } catch (const std::system_error& e) {
        throw fail(EX_UNAVAILABLE, e.what());
    }
    log.information("berthd %s listening on %s:%d with %z plugin(s), %z refused",
                    std::string(BERTH_SDK_VERSION), settings.engine.address, p.engine->boundPort(),
                    p.plugins->startedCount(), p.plugins->failures().size());
    return p.engine->boundPort();
}

bool Host::stop() {
    if (!parts_) return true;
    Parts& p = *parts_;
    logger_.information("shutting down");
    // Plugin code still running (a handler, or a task of a gather that timed out): stopping and
    // unloading the plugins under it would crash. Keep the access log and the spans, skip the
    // plugins' stop(), and leave every part alive for the code still using it.
    auto abandon = [&](const std::string& message) {
        if (p.accessLog) p.accessLog->stop();
        if (p.tracing) p.tracing->stop();
        logger_.error(message);
        (void)parts_.release();
        return false;
    };
    const int shutdownS = settings_.engine.shutdownTimeoutMs / 1000;
    if (!p.engine->stop())
        return abandon("exiting without stopping the plugins (server.shutdown_timeout = " +
                       std::to_string(shutdownS) + " s)");
    // Tasks of a gather that timed out may still run plugin code: wait for them before the plugins
    // are stopped and unloaded.
    if (!p.fanout->stopBy(std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(settings_.engine.shutdownTimeoutMs)))
        return abandon("parallel tasks still running after server.shutdown_timeout = " +
                       std::to_string(shutdownS) + " s; exiting without stopping the plugins");
    if (p.accessLog) p.accessLog->stop();
    if (p.tracing)
        p.tracing->stop();  // delivers what is queued; spans of the plugins' stop() are not recorded
    p.plugins->stopAll();
    parts_.reset();
    return true;
}

}  // namespace berth::server
