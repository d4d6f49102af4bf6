#include "test_schema.h"

#include <Poco/Logger.h>

#include "berthd_process.h"
#include "db/database_registry.h"
#include "pg_env.h"

namespace berth::test {

TestSchema::TestSchema(const std::string& what) : name_(uniqueName(what)) {
    server::DatabaseSettings settings = testDatabase();
    registry_ =
        std::make_unique<server::DatabaseRegistry>(std::vector{settings}, Poco::Logger::get("berth.db"));
    TestRequest request;
    registry_->get("main").acquire(request).execute("CREATE SCHEMA " + name_);
    registry_.reset();
    settings.schema = name_;  // from now on every connection works inside the schema
    registry_ =
        std::make_unique<server::DatabaseRegistry>(std::vector{settings}, Poco::Logger::get("berth.db"));
}

TestSchema::~TestSchema() {
    try {
        TestRequest request;
        registry_->get("main").acquire(request).execute("DROP SCHEMA " + name_ + " CASCADE");
    } catch (...) {
    }
}

DbResult TestSchema::query(const std::string& sql, const std::vector<Json>& params) {
    TestRequest request;
    return registry_->get("main").acquire(request).query(sql, params);
}

bool TestSchema::tableExists(const std::string& table) {
    DbResult found = query("SELECT to_regclass($1) IS NOT NULL AS found", {name_ + "." + table});
    return found[0]["found"].asBool();
}

bool TestSchema::columnExists(const std::string& table, const std::string& column) {
    return !query(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND "
                "column_name = $3",
                {name_, table, column})
                .empty();
}

std::vector<std::string> TestSchema::recorded() {
    std::vector<std::string> out;
    if (!tableExists("berth_migrations")) return out;
    for (DbRow row : query("SELECT plugin, version FROM berth_migrations ORDER BY plugin, version"))
        out.push_back(row["plugin"].asString() + ":" + std::to_string(row["version"].asInt()));
    return out;
}

void TestSchema::configure(BerthdProcess& berthd) const {
    PgEnv env = pgEnv();
    berthd.set("db.main.host", env.host);
    berthd.set("db.main.port", std::to_string(env.port));
    berthd.set("db.main.dbname", env.database);
    berthd.set("db.main.user", env.user);
    berthd.set("db.main.password", env.password);
    berthd.set("db.main.schema", name_);
}

}  // namespace berth::test
