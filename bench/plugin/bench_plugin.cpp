// TechEmpower-style routes for bench/: the smallest possible handlers, so that what is measured
// is Berth's own cost (engine, routing, request id, CORS, envelope, access log, metrics).
//
// With `database = <name>` in conf/plugins.d/bench.properties (bench/run's `db` part writes it),
// also TechEmpower's database tests on a `world` table that a migration creates and seeds:
// GET /bench/db (one random row) and GET /bench/queries?queries=N (N rows, one query each).
// Without it the plugin needs no database and serves only the routes above.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>

#include "berth/db.h"
#include "berth/plugin.h"

namespace berth::plugins::bench {
namespace {

constexpr int kWorldRows = 10000;

int randomId() {
    thread_local std::minstd_rand engine{std::random_device{}()};
    return std::uniform_int_distribution<int>(1, kWorldRows)(engine);
}

/// TechEmpower's rule: ?queries= clamped to 1..500; missing or not an integer: 1.
int queryCount(const Request& request) {
    std::optional<std::string> raw = request.query("queries");
    if (!raw || raw->empty()) return 1;
    char* end = nullptr;
    long n = std::strtol(raw->c_str(), &end, 10);
    if (end != raw->c_str() + raw->size()) return 1;
    return n < 1 ? 1 : n > 500 ? 500 : static_cast<int>(n);
}

}  // namespace

class BenchPlugin : public Plugin {
  public:
    static constexpr const char* kName = "bench";
    static constexpr const char* kVersion = "1.0.0";

    void configure(Context& context) override {
        if (!context.has("database")) return;
        std::string database = context.getString("database");
        db_ = &context.db(database);
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
                       int n = queryCount(request);
                       DbConnection conn = db_->acquire(request);
                       Json rows = Json::array();
                       for (int i = 0; i < n; ++i) rows.push(world(conn, randomId()));
                       return rows;
                   },
                   {false, "TechEmpower queries: ?queries=1..500 random rows of world, one query each"});
    }

  private:
    static Json world(DbConnection& conn, int id) {
        DbResult rows = conn.query("SELECT id, randomnumber FROM world WHERE id = $1", {Json(id)});
        if (rows.empty()) return Json::object({{"id", id}, {"randomNumber", nullptr}});
        return Json::object({{"id", rows[0]["id"]}, {"randomNumber", rows[0]["randomnumber"]}});
    }

    Database* db_ = nullptr;
};

}  // namespace berth::plugins::bench

BERTH_PLUGIN(berth::plugins::bench::BenchPlugin)
