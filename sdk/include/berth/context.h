#pragma once
/// berth/context.h — what the host gives a plugin in Plugin::configure(): its name, its
/// prefix, its own settings from conf/plugins.d/<name>.properties, its logger, the
/// databases of conf/berth.properties (berth/db.h) and where it declares its migrations
/// (berth/migration.h), its Redis cache (berth/cache.h) and its downstream HTTP services
/// (berth/http_client.h).
///
///     void configure(berth::Context& ctx) override {
///         greeting_ = ctx.getString("greeting", "Hello");
///         maxItems_ = ctx.getInt("max_items", 100);   // "max_items = ten" → configure fails, naming the key
///         ctx.logger().information("configured");
///     }
///
/// The context stays valid until the plugin is destroyed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/migration.h"

namespace Poco {
class Logger;
}

namespace berth {
inline namespace v1 {

class Cache;
class Database;
class HttpClient;

class Context {
  public:
    virtual ~Context();

    virtual const std::string& pluginName() const noexcept = 0;
    /// The URL prefix the plugin's routes are served under, e.g. "/hello".
    virtual const std::string& prefix() const noexcept = 0;

    /// Keys are the plugin's own, without any prefix ("greeting", not "hello.greeting").
    virtual bool has(std::string_view key) const = 0;
    virtual std::string getString(std::string_view key, std::string_view fallback = {}) const = 0;
    /// Throw std::invalid_argument naming the key and file when the value has the wrong type.
    virtual std::int64_t getInt(std::string_view key, std::int64_t fallback) const = 0;
    virtual double getDouble(std::string_view key, double fallback) const = 0;
    virtual bool getBool(std::string_view key, bool fallback) const = 0;

    /// Poco logger "berth.<plugin name>".
    virtual Poco::Logger& logger() const = 0;

    /// The database `db.<name>.*` of conf/berth.properties (include berth/db.h to use it), shared
    /// by all plugins and valid until the plugin is destroyed. Throws std::invalid_argument naming
    /// the configured databases when there is none of that name — call it in configure() so a
    /// typo refuses the plugin at start instead of failing requests.
    virtual Database& db(std::string_view name) const = 0;

    /// Declares the plugin's database migrations (berth/migration.h); call it in configure(),
    /// once or several times. Throws std::invalid_argument for a version <= 0 or declared twice,
    /// an empty `up`, or a `database` berth.properties does not configure — so configure() fails
    /// and the plugin is refused, naming the problem.
    /// (Appended after db(): the host implements Context, so plugins built before it still load.)
    virtual void addMigrations(const std::vector<Migration>& migrations) = 0;

    /// The plugin's Redis cache (include berth/cache.h to use it): keys namespaced `<plugin>:`, one
    /// pool shared by all plugins. Always there: when redis.* is not configured or Redis is down,
    /// reads miss and writes are skipped (see berth/cache.h). (Appended: ABI rule above.)
    virtual Cache& cache() const = 0;

    /// The downstream service `clients.<service>.*` of conf/berth.properties (include
    /// berth/http_client.h to use it): one pool of keep-alive connections per service, shared by all
    /// plugins, valid until the plugin is destroyed. Throws std::invalid_argument naming the
    /// configured services when there is none of that name — call it in configure(), so that a typo
    /// refuses the plugin at start instead of failing requests. (Appended: ABI rule above.)
    virtual HttpClient& http(std::string_view service) const = 0;
};

}  // namespace v1
}  // namespace berth
