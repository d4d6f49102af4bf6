#include "berth_application.h"

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/Path.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <pthread.h>
#include <sys/resource.h>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "../client/client_registry.h"
#include "../db/database_registry.h"
#include "../http/route_table.h"
#include "../migrate/migrator.h"
#include "../observe/json_log_formatter.h"
#include "../plugin/plugin_manager.h"
#include "berth/plugin.h"
#include "host.h"
#include "logging_setup.h"
#include "server_config.h"

namespace berth::server {
namespace {

constexpr const char* kDefaultConfig = "conf/berth.properties";
constexpr int kLowerPriority = 10;  // below berth.properties (0): the logging file never overrides it

// Every connection is a descriptor, and the usual soft limit (1024) is far below
// server.max_connections: raise it to the hard limit, as nginx's worker_rlimit_nofile does.
void raiseFileLimit(std::size_t maxConnections, Poco::Logger& log) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    const rlim_t wanted = static_cast<rlim_t>(maxConnections) + 256;  // plus files, pools, plugins
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
        log.warning(
            "open file limit %s is below server.max_connections + 256 = %s; raise LimitNOFILE or "
            "ulimit -n, or lower server.max_connections",
            std::to_string(limit.rlim_cur), std::to_string(wanted));
}

}  // namespace

BerthApplication::BerthApplication(std::string launchDir) : launchDir_(std::move(launchDir)) {
    setUnixOptions(true);
}

void BerthApplication::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);  // --daemon, --pidfile, --umask
    options.addOption(Poco::Util::Option("help", "h", "print this help and exit"));
    options.addOption(Poco::Util::Option("version", "v", "print the version and exit"));
    options.addOption(
        Poco::Util::Option("config", "c", "the server configuration (default conf/berth.properties)")
            .required(false)
            .repeatable(false)
            .argument("FILE"));
    options.addOption(Poco::Util::Option("check-config", "",
                                         "validate the configuration and every plugin file, print each "
                                         "problem, and exit non-zero if there is any"));
    // Repeatable so that handleOption() sees a second one and reports it as a usage error (64).
    options.addOption(Poco::Util::Option("plugin", "",
                                         "migrate: only this plugin's migrations (required with down and "
                                         "with --to)")
                          .required(false)
                          .repeatable(true)
                          .argument("NAME"));
    options.addOption(Poco::Util::Option("to", "",
                                         "migrate up: apply pending migrations up to and including VERSION; "
                                         "migrate down: roll back every applied one above VERSION (0: all)")
                          .required(false)
                          .repeatable(true)
                          .argument("VERSION"));
    options.addOption(
        Poco::Util::Option("all", "", "migrate down: roll back the last applied migration of every plugin")
            .required(false)
            .repeatable(false));
    options.addOption(Poco::Util::Option("allow-out-of-order", "",
                                         "migrate up: apply a pending migration whose version is below one "
                                         "already applied")
                          .required(false)
                          .repeatable(false));
}

void BerthApplication::handleOption(const std::string& name, const std::string& value) {
    ServerApplication::handleOption(name, value);
    if (name == "help") {
        helpRequested_ = true;
        stopOptionsProcessing();
    } else if (name == "version") {
        versionRequested_ = true;
        stopOptionsProcessing();
    } else if (name == "config") {
        configFile_ = value;
    } else if (name == "check-config") {
        checkOnly_ = true;
    } else if (name == "plugin" || name == "to") {
        std::optional<std::string>& slot = name == "plugin" ? migratePlugin_ : migrateTo_;
        if (slot && optionError_.empty()) optionError_ = "--" + name + " is given twice";
        slot = value;
    } else if (name == "all") {
        migrateAll_ = true;
    } else if (name == "allow-out-of-order") {
        allowOutOfOrder_ = true;
    }
}

void BerthApplication::initialize(Poco::Util::Application& self) {
    if (!helpRequested_ && !versionRequested_) {
        Poco::Path configPath(configFile_.empty() ? kDefaultConfig : configFile_);
        if (configPath.isRelative())
            configPath = Poco::Path(Poco::Path(launchDir_).makeDirectory()).resolve(configPath);
        configFile_ = configPath.toString();
        if (!Poco::File(configFile_).exists()) {
            configError_ = "configuration file " + configFile_ + " does not exist (use --config FILE)";
        } else {
            try {
                loadConfiguration(configFile_);
                Poco::Path logging(configPath.parent());
                logging.setFileName("logging.properties");
                if (Poco::File(logging).exists())
                    config().add(new Poco::Util::PropertyFileConfiguration(logging.toString()),
                                 kLowerPriority);
                for (const std::string& problem : prepareLogging(config(), configPath.parent().toString()))
                    configError_ += (configError_.empty() ? "logging: " : "; ") + problem;
            } catch (const Poco::Exception& e) {
                configError_ = "configuration file " + configFile_ + " cannot be read: " + e.displayText();
            }
        }
    }
    // Registered before ServerApplication::initialize() configures logging from the logging.*
    // keys, which may name it.
    JsonLogFormatter::registerWithLoggingFactory();
    ServerApplication::initialize(self);
}

void BerthApplication::printHelp() {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage(
        "[--config FILE] [--check-config] [--daemon --pidfile FILE]\n"
        "       berthd migrate status [--plugin NAME] [--config FILE]\n"
        "       berthd migrate up [--plugin NAME [--to VERSION]] [--allow-out-of-order] [--config FILE]\n"
        "       berthd migrate down --plugin NAME [--to VERSION] | --all [--config FILE]");
    help.setHeader("berthd loads Berth plugins (.so files) and serves their routes over HTTP.");
    help.setFooter(
        "migrate loads and configures the plugins (without serving) and manages the database "
        "migrations they declare, recorded in each database's berth_migrations table: status lists "
        "each one as applied, pending, changed (its up SQL edited since it was applied: refused), "
        "missing (recorded, no longer declared) or not loaded (rows of plugins not loaded here); up "
        "applies the pending ones (each in its own transaction), refusing one whose version is below an "
        "applied one unless --allow-out-of-order; down rolls back the last applied migration of the "
        "--plugin, or with --to every one above VERSION (--all: the last one of every plugin). --to "
        "needs --plugin. A PostgreSQL advisory lock lets one berthd migrate a database at a time "
        "(migrate.lock_timeout_s). Exit status: 0 done, 64 bad usage, 65 refused (checksum mismatch, "
        "no down SQL, out of order, unknown plugin; status: a changed or missing migration), 69 "
        "database unreachable or the lock not taken in time, 70 a migration failed, 78 configuration "
        "or plugin problems (also: --plugin names a plugin that was refused).\n"
        "Configuration reference: the comments in conf/berth.properties and the README.");
    help.format(std::cout);
}

int BerthApplication::main(const std::vector<std::string>& args) {
    if (helpRequested_) {
        printHelp();
        return EXIT_OK;
    }
    if (versionRequested_) {
        std::cout << "berthd " << BERTH_SDK_VERSION << " (plugin ABI " << BERTH_ABI_VERSION << ", "
                  << BERTH_BUILD_SIGNATURE << ")\n";
        return EXIT_OK;
    }
    bool migrating = !args.empty() && args[0] == "migrate";
    if (!args.empty() && !migrating) {
        std::cerr << "berthd: unknown command '" << args[0] << "' (berthd --help)\n";
        return EXIT_USAGE;
    }
    if (!optionError_.empty()) {
        std::cerr << "berthd: " << optionError_ << " (berthd --help)\n";
        return EXIT_USAGE;
    }
    if (!migrating && (migratePlugin_ || migrateTo_ || migrateAll_ || allowOutOfOrder_)) {
        std::cerr << "berthd: --plugin, --to, --all and --allow-out-of-order belong to `berthd migrate` "
                     "(berthd --help)\n";
        return EXIT_USAGE;
    }
    if (!configError_.empty()) {
        std::cerr << "berthd: " << configError_ << "\n";
        return EXIT_CONFIG;
    }
    if (migrating) return migrate(args);
    return checkOnly_ ? checkConfig() : serve();
}

int BerthApplication::checkConfig() {
    std::vector<std::string> problems;
    std::string confDir = Poco::Path(configFile_).parent().toString();
    ServerConfig settings = ServerConfig::load(config(), confDir, problems);
    RouteTable routes;
    // Every problem is printed below as an "error:" line; the loader's own log would repeat them.
    Poco::Logger& quiet = Poco::Logger::get("berth.plugins.check");
    quiet.setLevel(Poco::Message::PRIO_FATAL);
    PluginManager plugins(settings.plugins, routes, quiet);
    for (std::string& problem : plugins.check()) problems.push_back(std::move(problem));
    for (const std::string& warning : settings.warnings) std::cerr << "warning: " << warning << "\n";
    for (const std::string& problem : problems) std::cerr << "error: " << problem << "\n";
    if (!problems.empty()) {
        std::cerr << configFile_ << ": " << problems.size() << " problem(s)\n";
        return EXIT_CONFIG;
    }
    std::cout << configFile_ << ": configuration OK\n";
    return EXIT_OK;
}

int BerthApplication::migrate(const std::vector<std::string>& args) {
    MigrateOptions options;
    const std::string action = args.size() == 2 ? args[1] : "";
    if (action == "status")
        options.action = MigrateAction::Status;
    else if (action == "up")
        options.action = MigrateAction::Up;
    else if (action == "down")
        options.action = MigrateAction::Down;
    else {
        std::cerr << "berthd: usage: berthd migrate status|up|down [--plugin NAME] [--to VERSION]\n";
        return EXIT_USAGE;
    }
    auto usage = [](const std::string& message) {
        std::cerr << "berthd: " << message << " (berthd --help)\n";
        return EXIT_USAGE;
    };
    if (migratePlugin_) {
        if (migratePlugin_->empty()) return usage("--plugin needs a plugin name");
        options.plugin = migratePlugin_;
    }
    if (migrateTo_) {
        std::size_t used = 0;
        long long to = -1;
        try {
            to = std::stoll(*migrateTo_, &used);
        } catch (const std::exception&) {
        }
        if (migrateTo_->empty() || used != migrateTo_->size() || to < 0)
            return usage("--to '" + *migrateTo_ + "': a version is an integer >= 0");
        if (options.action == MigrateAction::Status) return usage("--to goes with migrate up or down");
        if (!options.plugin) return usage("--to needs --plugin NAME: versions are numbered per plugin");
        options.to = to;
    }
    if (migrateAll_) {
        if (options.action != MigrateAction::Down) return usage("--all goes with migrate down");
        if (options.plugin) return usage("--all and --plugin exclude each other");
    }
    if (options.action == MigrateAction::Down && !options.plugin && !migrateAll_)
        return usage(
            "migrate down needs --plugin NAME (or --all, to roll back the last migration of every plugin)");
    if (allowOutOfOrder_ && options.action != MigrateAction::Up)
        return usage("--allow-out-of-order goes with migrate up");
    options.allowOutOfOrder = allowOutOfOrder_;

    std::vector<std::string> problems;
    std::string confDir = Poco::Path(configFile_).parent().toString();
    ServerConfig settings = ServerConfig::load(config(), confDir, problems);
    for (const std::string& problem : problems) std::cerr << "error: " << problem << "\n";
    if (!problems.empty()) return EXIT_CONFIG;

    // The plugins are configured to learn their migrations, and never started. Their refusals are
    // printed below; the loader's own log would repeat them.
    DatabaseRegistry databases(settings.databases, Poco::Logger::get("berth.db"));
    std::unique_ptr<ClientRegistry> clients;  // so that a plugin's configure() finds its services
    try {
        clients = std::make_unique<ClientRegistry>(settings.clients, Poco::Logger::get("berth.clients"));
    } catch (const std::runtime_error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return EXIT_CONFIG;
    }
    RouteTable routes;
    Poco::Logger& quiet = Poco::Logger::get("berth.plugins.migrate");
    quiet.setLevel(Poco::Message::PRIO_FATAL);
    PluginManager plugins(settings.plugins, routes, quiet, &databases, nullptr, clients.get());
    std::vector<PluginMigrations> declared;
    try {
        declared = plugins.configureAll();
    } catch (const PluginStartupError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return EXIT_CONFIG;
    }
    for (const PluginFailure& failure : plugins.failures()) {
        std::cerr << "error: " << failure.describe() << "\n";
        if (options.plugin && failure.plugin == *options.plugin) {
            std::cerr << "error: plugin '" << *options.plugin << "' was refused (above); not migrating it\n";
            return EXIT_CONFIG;
        }
    }

    options.lockWait.timeoutS = settings.migrate.lockTimeoutS;
    for (const PluginMigrations& p : declared) options.loadedPlugins.push_back(p.plugin);
    Migrator migrator(settings.databases, [](bool isError, const std::string& line) {
        (isError ? std::cerr : std::cout) << (isError ? "error: " : "") << line << std::endl;
    });
    MigrateOutcome outcome = MigrateOutcome::Ok;
    try {
        outcome = migrator.run(declared, options);
    } catch (const MigrationDatabaseError& e) {
        std::cerr << "error: " << e.what() << "\n";
        // A migration that failed before the database went away is the worse news.
        return migrator.outcome() == MigrateOutcome::Failed ? EXIT_SOFTWARE : EXIT_UNAVAILABLE;
    }
    plugins.stopAll();
    if (outcome == MigrateOutcome::Failed) return EXIT_SOFTWARE;
    if (outcome == MigrateOutcome::Refused) return EXIT_DATAERR;
    return plugins.failures().empty() ? EXIT_OK : EXIT_CONFIG;
}

int BerthApplication::serve() {
    // Threads inherit the signal mask: block the stop signals before any thread starts, so that
    // only waitForTerminationRequest() receives them. Otherwise a SIGTERM can land on an I/O or
    // worker thread, whose default action kills the process without an orderly shutdown.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    for (int signal : {SIGINT, SIGTERM, SIGQUIT}) sigaddset(&stopSignals, signal);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

    Poco::Logger& log = Poco::Logger::get("berth");
    std::vector<std::string> problems;
    std::string confDir = Poco::Path(configFile_).parent().toString();
    ServerConfig settings = ServerConfig::load(config(), confDir, problems);
    if (!problems.empty()) {
        for (const std::string& problem : problems) log.fatal("%s: %s", configFile_, problem);
        log.fatal("%s: %z problem(s); not starting (berthd --check-config lists them)", configFile_,
                  problems.size());
        return EXIT_CONFIG;
    }

    raiseFileLimit(settings.engine.maxConnections, log);
    // The stop signals are blocked here, so the start's waits (auto_migrate's) poll for them
    // (sigtimedwait) and end the start when one comes.
    Host host(std::move(settings), configFile_, log, [stopSignals](int ms) {
        timespec timeout{ms / 1000, (ms % 1000) * 1000000L};
        siginfo_t info{};
        return sigtimedwait(&stopSignals, &info, &timeout) > 0;
    });
    try {
        host.start();
    } catch (const HostStartError& e) {
        return e.exitCode();
    }
    waitForTerminationRequest();
    // False: plugin code still runs, so the plugins must not be unloaded under it (logged).
    if (!host.stop()) std::_Exit(EXIT_SOFTWARE);
    return EXIT_OK;
}

}  // namespace berth::server
