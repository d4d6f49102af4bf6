#include "plugin_manager.h"

#include <Poco/DirectoryIterator.h>
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <set>

#include "../http/route_table.h"
#include "dependency_order.h"
#include "plugin_context.h"
#include "plugin_library.h"
#include "plugin_settings.h"

namespace berth::server {

std::string PluginFailure::describe() const {
    if (plugin.empty()) return "plugin file " + file + ": " + reason;
    return "plugin '" + plugin + "' (" + file + "): " + reason;
}

struct PluginManager::Loaded {
    std::unique_ptr<PluginLibrary> library;
    PluginSettings settings;
    std::unique_ptr<PluginContext> context;
    void* instance = nullptr;
    bool configuredOnly = false;  // by configureAll(): start() never ran, so stop() must not
    Json routes = Json::array();

    const berth_plugin_descriptor& descriptor() const { return library->descriptor(); }
    std::string name() const { return library->name(); }
    const std::string& file() const { return library->path(); }

    void destroyInstance() {
        if (instance != nullptr) descriptor().destroy(instance);
        instance = nullptr;
    }
};

namespace {

std::vector<std::string> findPluginFiles(const std::string& dir) {
    std::vector<std::string> files;
    std::set<std::string> seen;
    for (Poco::DirectoryIterator it(dir), end; it != end; ++it) {
        if (Poco::Path(it.name()).getExtension() != "so") continue;
        // Two spellings of one file would load it twice; compare canonical paths.
        char resolved[PATH_MAX];
        if (::realpath(it.path().toString().c_str(), resolved) == nullptr) continue;
        if (!Poco::File(resolved).isFile()) continue;
        if (seen.insert(resolved).second) files.emplace_back(resolved);
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

PluginManager::PluginManager(PluginManagerSettings settings, RouteTable& routes, Poco::Logger& logger,
                             const DatabaseRegistry* databases, CacheRegistry* caches,
                             const ClientRegistry* clients)
    : settings_(std::move(settings)),
      routes_(routes),
      logger_(logger),
      databases_(databases),
      caches_(caches),
      clients_(clients) {}

PluginManager::~PluginManager() {
    stopAll();
}

void PluginManager::refuse(const std::string& file, const std::string& plugin, const std::string& reason) {
    failures_.push_back({file, plugin, reason});
    std::string message = failures_.back().describe();
    if (settings_.abortOnFailure) throw PluginStartupError(message + " (plugins.on_failure = abort)");
    logger_.error(message + "; skipped");
}

std::vector<std::unique_ptr<PluginManager::Loaded>> PluginManager::loadAll() {
    std::vector<std::unique_ptr<Loaded>> loaded;
    std::vector<std::string> files;
    try {
        files = findPluginFiles(settings_.pluginsDir);
    } catch (const Poco::Exception& e) {
        refuse(settings_.pluginsDir, "", "plugins.dir cannot be read: " + e.displayText());
        return loaded;
    }
    if (files.empty()) logger_.warning("no plugin files (*.so) in %s", settings_.pluginsDir);
    std::map<std::string, std::string> fileByName;
    for (const std::string& file : files) {
        std::unique_ptr<PluginLibrary> library;
        try {
            library = PluginLibrary::open(file);
        } catch (const PluginLoadError& e) {
            refuse(file, "", e.what());
            continue;
        }
        std::string name = library->name();
        auto [previous, fresh] = fileByName.emplace(name, file);
        if (!fresh) {
            refuse(file, name, "a plugin named '" + name + "' is already loaded from " + previous->second);
            continue;
        }
        std::vector<std::string> settingsProblems;
        PluginSettings settings = PluginSettings::load(settings_.confDir, name, settingsProblems);
        if (!settingsProblems.empty()) {
            std::string reason;
            for (const std::string& problem : settingsProblems)
                reason += (reason.empty() ? "" : "; ") + problem;
            refuse(file, name, reason);
            continue;
        }
        if (!settings.enabled) {
            logger_.information("plugin '%s' (%s): disabled by %s", name, file, settings.file);
            continue;
        }
        logger_.information("plugin '%s' %s (%s): ABI %u matched", name, library->version(), file,
                            library->descriptor().abi_version);
        auto entry = std::make_unique<Loaded>();
        entry->library = std::move(library);
        entry->settings = std::move(settings);
        loaded.push_back(std::move(entry));
    }
    return loaded;
}

void PluginManager::startAll() {
    bringUp(true);
}

std::vector<PluginMigrations> PluginManager::configureAll() {
    bringUp(false);
    std::vector<PluginMigrations> out;
    for (const auto& plugin : started_) out.push_back({plugin->name(), plugin->context->migrations()});
    return out;
}

void PluginManager::bringUp(bool start) {
    std::vector<std::unique_ptr<Loaded>> loaded = loadAll();

    std::vector<DependencyNode> nodes;
    for (const auto& entry : loaded) nodes.push_back({entry->name(), entry->library->requiredPlugins()});
    DependencyOrder order = orderByRequirements(nodes);
    std::map<std::string, std::unique_ptr<Loaded>> byName;
    for (auto& entry : loaded) {
        std::string name = entry->name();
        auto refused = order.refused.find(name);
        if (refused != order.refused.end()) {
            refuse(entry->file(), name, refused->second);
            continue;
        }
        byName[name] = std::move(entry);
    }

    std::set<std::string> running;
    char error[1024];
    for (const std::string& name : order.order) {
        auto found = byName.find(name);
        if (found == byName.end()) continue;
        Loaded& plugin = *found->second;
        const auto& d = plugin.descriptor();

        std::string missing;
        for (const std::string& required : plugin.library->requiredPlugins())
            if (running.count(required) == 0) missing = required;
        if (!missing.empty()) {
            refuse(plugin.file(), name, "requires plugin '" + missing + "', which failed to start");
            continue;
        }
        if (auto clash = routes_.clashWith(plugin.settings.prefix)) {
            refuse(plugin.file(), name,
                   "prefix " + plugin.settings.prefix + " clashes with " +
                       (*clash == "berthd" ? std::string("a host endpoint of berthd")
                                           : "plugin '" + *clash + "'"));
            continue;
        }

        error[0] = '\0';
        plugin.instance = d.create(error, sizeof error);
        if (plugin.instance == nullptr) {
            refuse(plugin.file(), name, std::string("constructor failed: ") + error);
            continue;
        }
        plugin.context =
            std::make_unique<PluginContext>(name, plugin.settings.prefix, plugin.settings.file,
                                            plugin.settings.config, databases_, caches_, clients_);
        if (d.configure(plugin.instance, static_cast<Context*>(plugin.context.get()), error, sizeof error) !=
            0) {
            plugin.destroyInstance();
            refuse(plugin.file(), name, std::string("configure() failed: ") + error);
            continue;
        }
        if (migrationHook_ && start) {
            try {
                migrationHook_(name, plugin.context->migrations());
            } catch (const PluginStartupError&) {
                plugin.destroyInstance();
                throw;  // the hook ends the start (database gone for good, stop requested)
            } catch (const std::exception& e) {
                plugin.destroyInstance();
                refuse(plugin.file(), name, std::string("migrations failed: ") + e.what());
                continue;
            }
        }
        if (!start) {
            plugin.configuredOnly = true;
            running.insert(name);
            started_.push_back(std::move(found->second));
            continue;
        }
        PluginRoutes staged;
        if (d.start(plugin.instance, static_cast<Router*>(&staged), error, sizeof error) != 0) {
            staged.routes().clear();  // its handlers belong to the plugin being destroyed
            plugin.destroyInstance();
            refuse(plugin.file(), name, std::string("start() failed: ") + error);
            continue;
        }
        for (const Route& route : staged.routes()) {
            Json entry = Json::object({{"method", methodName(route.method)},
                                       {"path", plugin.settings.prefix + route.pattern.source()}});
            if (!route.options.summary.empty()) entry.set("summary", route.options.summary);
            plugin.routes.push(std::move(entry));
        }
        std::size_t routeCount = staged.routes().size();
        routes_.mount(name, plugin.settings.prefix, std::move(staged.routes()));
        running.insert(name);
        logger_.information("plugin '%s' %s started under %s with %z routes", name, std::string(d.version),
                            plugin.settings.prefix, routeCount);
        started_.push_back(std::move(found->second));
    }
}

void PluginManager::stopAll() {
    if (started_.empty()) return;
    char error[1024];
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
        Loaded& plugin = **it;
        if (plugin.configuredOnly) continue;
        error[0] = '\0';
        if (plugin.descriptor().stop(plugin.instance, error, sizeof error) != 0)
            logger_.error("plugin '%s' (%s): stop() failed: %s", plugin.name(), plugin.file(),
                          std::string(error));
        else
            logger_.information("plugin '%s' stopped", plugin.name());
    }
    // Route handlers are the plugins' code: drop them before the objects and libraries go.
    routes_.clear();
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) (*it)->destroyInstance();
    while (!started_.empty()) started_.pop_back();  // unloads, last started first
}

std::vector<std::string> PluginManager::check() {
    std::vector<std::string> problems;
    bool abort = settings_.abortOnFailure;
    settings_.abortOnFailure = false;
    std::size_t before = failures_.size();
    std::vector<std::unique_ptr<Loaded>> loaded = loadAll();
    settings_.abortOnFailure = abort;

    std::vector<DependencyNode> nodes;
    for (const auto& entry : loaded) nodes.push_back({entry->name(), entry->library->requiredPlugins()});
    DependencyOrder order = orderByRequirements(nodes);
    for (const auto& [name, reason] : order.refused) {
        for (const auto& entry : loaded)
            if (entry->name() == name) failures_.push_back({entry->file(), name, reason});
    }
    RouteTable prefixes;
    for (const char* path : kHostPaths) prefixes.reserve(path);
    for (const auto& entry : loaded) {
        if (auto clash = prefixes.mount(entry->name(), entry->settings.prefix, {}))
            failures_.push_back({entry->file(), entry->name(),
                                 "prefix " + entry->settings.prefix + " clashes with " +
                                     (*clash == "berthd" ? std::string("a host endpoint of berthd")
                                                         : "plugin '" + *clash + "'")});
    }
    for (std::size_t i = before; i < failures_.size(); ++i) problems.push_back(failures_[i].describe());
    return problems;
}

Json PluginManager::describe() const {
    Json list = Json::array();
    for (const auto& plugin : started_) {
        list.push(Json::object({{"name", plugin->name()},
                                {"version", plugin->library->version()},
                                {"prefix", plugin->settings.prefix},
                                {"file", plugin->file()},
                                {"routes", plugin->routes}}));
    }
    return list;
}

std::size_t PluginManager::startedCount() const noexcept {
    return started_.size();
}

std::vector<std::string> PluginManager::startedNames() const {
    std::vector<std::string> names;
    for (const auto& plugin : started_) names.push_back(plugin->name());
    return names;
}

}  // namespace berth::server
