// TechEmpower-style routes for bench/: the smallest possible handlers, so that what is measured
// is Berth's own cost (engine, routing, request id, CORS, envelope, access log, metrics).
//
// With `database = <name>` in conf/plugins.d/bench.properties (bench/run's `db` part writes it),
// also TechEmpower's database tests on a `world` table that a migration creates and seeds:
// GET /bench/db (one random row) and GET /bench/queries?queries=N (N rows, one query each).
// With `cache = true` as well (bench/run's `cache` part), TechEmpower's cached-queries test on
// the same table through Redis (redis.* of berth.properties): GET /bench/cached-queries?count=N,
// rows cached for `cache_ttl_s` seconds (1-86400, default 3600).
// Without them the plugin needs no database and serves only the routes above.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "berth/cache_model.h"
#include "berth/db.h"
#include "berth/plugin.h"

namespace berth::plugins::bench {
namespace {

constexpr int kWorldRows = 10000;

int randomId() {
    thread_local std::minstd_rand engine{std::random_device{}()};
    return std::uniform_int_distribution<int>(1, kWorldRows)(engine);
}

/// TechEmpower's rule: ?<name>= clamped to 1..500; missing or not an integer: 1.
int queryCount(const Request& request, std::string_view name) {
    std::optional<std::string> raw = request.query(name);
    if (!raw || raw->empty()) return 1;
    char* end = nullptr;
    long n = std::strtol(raw->c_str(), &end, 10);
    if (end != raw->c_str() + raw->size()) return 1;
    return n < 1 ? 1 : n > 500 ? 500 : static_cast<int>(n);
}

struct World {
    std::int64_t id = 0;
    std::int64_t randomNumber = 0;
};

Json worldJson(std::int64_t id, Json randomNumber) {
    return Json::object({{"id", id}, {"randomNumber", std::move(randomNumber)}});
}

/// Rows of world in Redis as {"id":…,"randomNumber":…} under "bench:world:<id>".
class WorldCache : public CacheModel<World> {
  public:
    WorldCache(Cache& cache, std::chrono::seconds ttl) : CacheModel(cache, "world:{id}", ttl) {}

  protected:
    std::string idOf(const World& world) const override { return std::to_string(world.id); }
    Json toJson(const World& world) const override { return worldJson(world.id, world.randomNumber); }
    World fromJson(const Json& json) const override {
        return World{json["id"].asInt(), json["randomNumber"].asInt()};
    }
};

}  // namespace

class BenchPlugin : public Plugin {
  public:
    static constexpr const char* kName = "bench";
    static constexpr const char* kVersion = "1.0.0";

    void configure(Context& context) override {
        if (!context.has("database")) {
            if (context.getBool("cache", false))
                throw std::invalid_argument(
                    "cache = true needs database = <name>: misses are read from its world table");
            return;
        }
        std::string database = context.getString("database");
        db_ = &context.db(database);
        if (context.getBool("cache", false)) {
            std::int64_t ttl = context.getInt("cache_ttl_s", 3600);
            if (ttl < 1 || ttl > 86400)
                throw std::invalid_argument("cache_ttl_s must be 1-86400 (seconds), not " +
                                            std::to_string(ttl));
            worlds_ = std::make_unique<WorldCache>(context.cache(), std::chrono::seconds(ttl));
        }
        context.addMigrations({
            {1, "TechEmpower world table, 10,000 random rows", "berth bench",
             "CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL);"
             " INSERT INTO world (id, randomnumber)"
             "  SELECT g, 1 + floor(random() * 10000)::integer FROM generate_series(1, 10000) g;"
             " ANALYZE world",
             "DROP TABLE world", database},
        });
    }

    void start(Router& router) override {
        router.get("/plaintext", [](const Request&) { return Reply::raw("Hello, World!", "text/plain"); },
                   {true, "TechEmpower plaintext"});
        router.get("/json",
                   [](const Request&) {
                       return Json::object({{"message", "Hello, World!"}});
                   },
                   {true, "TechEmpower json, in the envelope"});
        // The same answer through the worker pool, to see what the thread handoff costs.
        router.get("/json-worker",
                   [](const Request&) {
                       return Json::object({{"message", "Hello, World!"}});
                   },
                   {false, "json on a worker thread"});
        if (db_ == nullptr) return;
        // Not nonBlocking: they wait on PostgreSQL, so they run on a worker.
        router.get("/db",
                   [this](const Request& request) {
                       DbConnection conn = db_->acquire(request);
                       return world(conn, randomId());
                   },
                   {false, "TechEmpower db: one random row of world"});
        router.get("/queries",
                   [this](const Request& request) {
                       int n = queryCount(request, "queries");
                       DbConnection conn = db_->acquire(request);
                       Json rows = Json::array();
                       for (int i = 0; i < n; ++i) rows.push(world(conn, randomId()));
                       return rows;
                   },
                   {false, "TechEmpower queries: ?queries=1..500 random rows of world, one query each"});
        if (worlds_ == nullptr) return;
        // Not nonBlocking either: Redis, and PostgreSQL for the misses.
        router.get("/cached-queries", [this](const Request& request) { return cachedQueries(request); },
                   {false, "TechEmpower cached-queries: ?count=1..500 random rows of world, from Redis"});
    }

  private:
    static Json world(DbConnection& conn, int id) {
        DbResult rows = conn.query("SELECT id, randomnumber FROM world WHERE id = $1", {Json(id)});
        if (rows.empty()) return worldJson(id, nullptr);
        return worldJson(rows[0]["id"].asInt(), rows[0]["randomnumber"]);
    }

    // One MGET for the N rows (getMany); the misses from PostgreSQL in one query and written back in
    // one pipeline of SETs (putMany) — the peer, bench/peers/aiohttp_cached.py, does the same. Once the
    // cache is warm (bench/run warms it) every row is a hit.
    Json cachedQueries(const Request& request) {
        std::vector<std::int64_t> ids(static_cast<std::size_t>(queryCount(request, "count")));
        for (std::int64_t& id : ids) id = randomId();
        std::vector<std::optional<World>> rows = worlds_->getMany(ids);
        Json::Array missing;
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (!rows[i]) missing.emplace_back(ids[i]);
        if (!missing.empty()) {
            std::vector<World> loaded;
            std::unordered_map<std::int64_t, World> byId;
            {
                DbConnection conn = db_->acquire(request);
                DbResult found = conn.query("SELECT id, randomnumber FROM world WHERE id = ANY($1::int[])",
                                            {Json(missing)});
                for (DbRow row : found) {
                    World world{row["id"].asInt(), row["randomnumber"].asInt()};
                    loaded.push_back(world);
                    byId.emplace(world.id, world);
                }
            }
            worlds_->putMany(loaded);  // false when Redis is down: the next request loads them again
            for (std::size_t i = 0; i < ids.size(); ++i) {
                auto it = byId.find(ids[i]);
                if (!rows[i] && it != byId.end()) rows[i] = it->second;
            }
        }
        Json::Array out;
        out.reserve(ids.size());
        for (std::size_t i = 0; i < ids.size(); ++i)
            out.push_back(rows[i] ? worldJson(rows[i]->id, rows[i]->randomNumber)
                                  : worldJson(ids[i], nullptr));
        return Json(std::move(out));
    }

    Database* db_ = nullptr;
    std::unique_ptr<WorldCache> worlds_;
};

}  // namespace berth::plugins::bench

BERTH_PLUGIN(berth::plugins::bench::BenchPlugin)
