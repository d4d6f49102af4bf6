#include "plugin_context.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/String.h>
#include <stdexcept>

#include "../cache/cache_registry.h"
#include "../client/client_registry.h"
#include "../db/database_registry.h"
#include "../migrate/migration_plan.h"
#include "../observe/plugin_loggers.h"
#include "strict_number.h"

namespace berth::server {

PluginContext::PluginContext(std::string name, std::string prefix, std::string file,
                             Poco::AutoPtr<Poco::Util::AbstractConfiguration> config,
                             const DatabaseRegistry* databases, CacheRegistry* caches,
                             const ClientRegistry* clients)
    : name_(std::move(name)),
      prefix_(std::move(prefix)),
      file_(std::move(file)),
      config_(std::move(config)),
      logger_(Poco::Logger::get("berth." + name_)),
      databases_(databases),
      cache_(caches != nullptr ? caches->forPlugin(name_) : CacheRegistry::disabled()),
      clients_(clients) {
    notePluginLogger(name_);  // so log lines of berth.<name> outside a request name the plugin
}

Database& PluginContext::db(std::string_view name) const {
    if (databases_ == nullptr || databases_->empty())
        throw std::invalid_argument("no database '" + std::string(name) +
                                    "': berth.properties configures none (db.<name>.host …)");
    return databases_->get(name);
}

HttpClient& PluginContext::http(std::string_view service) const {
    if (clients_ == nullptr)
        throw std::invalid_argument("no service '" + std::string(service) +
                                    "': berth.properties configures none (clients.<service>.url …)");
    return clients_->get(service);
}

void PluginContext::addMigrations(const std::vector<Migration>& migrations) {
    for (const Migration& m : migrations) {
        std::string which = "migration " + std::to_string(m.version) +
                            (m.description.empty() ? "" : " (" + m.description + ")");
        if (m.version <= 0) throw std::invalid_argument(which + ": the version must be a positive integer");
        for (const Migration& other : migrations_)
            if (other.version == m.version)
                throw std::invalid_argument(which + ": version " + std::to_string(m.version) +
                                            " is declared twice");
        if (std::string problem = migrationSqlProblem(m.up); !problem.empty())
            throw std::invalid_argument(which + ": its up SQL is refused: " + problem);
        // An empty down (or one of only comments) means "cannot be rolled back"; one with
        // statements must not end the transaction either.
        if (!sqlStatementHeads(m.down).empty())
            if (std::string problem = migrationSqlProblem(m.down); !problem.empty())
                throw std::invalid_argument(which + ": its down SQL is refused: " + problem);
        (void)db(m.database);  // throws, naming the configured databases
        migrations_.push_back(m);
    }
}

void PluginContext::wrongType(std::string_view key, const char* wanted) const {
    std::string where = file_.empty() ? "plugin " + name_ : file_;
    throw std::invalid_argument(where + ": " + std::string(key) + " = '" +
                                config_->getRawString(std::string(key)) + "' is not " + wanted);
}

bool PluginContext::has(std::string_view key) const {
    return config_->hasProperty(std::string(key));
}

std::string PluginContext::getString(std::string_view key, std::string_view fallback) const {
    return config_->getString(std::string(key), std::string(fallback));
}

std::int64_t PluginContext::getInt(std::string_view key, std::int64_t fallback) const {
    std::string name(key);
    if (!config_->hasProperty(name)) return fallback;
    std::int64_t value = 0;
    if (!internal::parseStrictInt64(Poco::trim(config_->getString(name)), value))
        wrongType(key, "an integer");
    return value;
}

double PluginContext::getDouble(std::string_view key, double fallback) const {
    try {
        return config_->getDouble(std::string(key), fallback);
    } catch (const Poco::Exception&) {
        wrongType(key, "a number");
    }
}

bool PluginContext::getBool(std::string_view key, bool fallback) const {
    try {
        return config_->getBool(std::string(key), fallback);
    } catch (const Poco::Exception&) {
        wrongType(key, "a boolean (true/false)");
    }
}

}  // namespace berth::server
