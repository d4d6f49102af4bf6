#pragma once
// berth::Context as the host implements it for one plugin.

#include <Poco/AutoPtr.h>
#include <Poco/Util/AbstractConfiguration.h>

#include "berth/context.h"

namespace berth::server {

class CacheRegistry;
class ClientRegistry;
class DatabaseRegistry;

class PluginContext : public Context {
  public:
    /// `databases` may be null (no databases: db() throws for every name); so may `caches` (cache()
    /// misses and skips everything) and `clients` (http() throws for every name).
    PluginContext(std::string name, std::string prefix, std::string file,
                  Poco::AutoPtr<Poco::Util::AbstractConfiguration> config,
                  const DatabaseRegistry* databases = nullptr, CacheRegistry* caches = nullptr,
                  const ClientRegistry* clients = nullptr);

    const std::string& pluginName() const noexcept override { return name_; }
    const std::string& prefix() const noexcept override { return prefix_; }
    bool has(std::string_view key) const override;
    std::string getString(std::string_view key, std::string_view fallback) const override;
    std::int64_t getInt(std::string_view key, std::int64_t fallback) const override;
    double getDouble(std::string_view key, double fallback) const override;
    bool getBool(std::string_view key, bool fallback) const override;
    Poco::Logger& logger() const override { return logger_; }
    Database& db(std::string_view name) const override;
    void addMigrations(const std::vector<Migration>& migrations) override;
    Cache& cache() const override { return cache_; }
    HttpClient& http(std::string_view service) const override;

    /// What the plugin declared with addMigrations(), in declaration order.
    const std::vector<Migration>& migrations() const noexcept { return migrations_; }

  private:
    [[noreturn]] void wrongType(std::string_view key, const char* wanted) const;

    std::string name_;
    std::string prefix_;
    std::string file_;
    Poco::AutoPtr<Poco::Util::AbstractConfiguration> config_;
    Poco::Logger& logger_;
    const DatabaseRegistry* databases_;
    Cache& cache_;
    const ClientRegistry* clients_;
    std::vector<Migration> migrations_;
};

}  // namespace berth::server
