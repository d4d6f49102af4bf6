#include "fresh_storage.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Client.h>
#include <Poco/Timespan.h>
#include <cppunit/TestAssert.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>

#include "berth/request.h"
#include "cache/cache_settings.h"
#include "db/database_registry.h"

namespace berth::testkit {
namespace {

// What the Db API wants for a statement: only its request id is read.
class KitRequest : public Request {
  public:
    KitRequest() { requestId_ = "api-test-case"; }
};

std::string uniqueName() {
    static std::atomic<int> counter{0};
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(std::random_device()() & 0xffffff));
    return "kit_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" + suffix;
}

std::unique_ptr<server::DatabaseRegistry> registry(server::DatabaseSettings settings,
                                                   const std::string& schema) {
    settings.schema = schema;
    settings.replicas.clear();
    settings.poolMin = 0;  // connects on first use
    settings.poolMax = 2;
    settings.autoMigrate = false;
    return std::make_unique<server::DatabaseRegistry>(std::vector{settings}, Poco::Logger::get("berth.kit"));
}

std::unique_ptr<Poco::Redis::Client> connect(const server::CacheSettings& cache) {
    auto client = std::make_unique<Poco::Redis::Client>();
    client->connect(cache.host, cache.port, Poco::Timespan(cache.connectTimeoutMs * 1000L));
    client->setReceiveTimeout(Poco::Timespan(5, 0));
    if (!cache.password.empty())
        client->execute<std::string>(Poco::Redis::Array() << "AUTH" << cache.password);
    client->execute<std::string>(Poco::Redis::Array() << "SELECT" << std::to_string(cache.db));
    return client;
}

}  // namespace

struct FreshStorage::Database {
    std::string name;
    std::string where;                                  // for messages: "db.main (127.0.0.1:5432/berth_test)"
    std::unique_ptr<server::DatabaseRegistry> outside;  // creates and drops the schema
    std::unique_ptr<server::DatabaseRegistry> inside;   // query(): search_path = the schema
};

struct FreshStorage::Redis {
    server::CacheSettings settings;
};

FreshStorage::FreshStorage() : schema_(uniqueName()), keyPrefix_(schema_ + ":") {}

FreshStorage::~FreshStorage() {
    cleanUp();
}

void FreshStorage::prepare(const std::vector<server::DatabaseSettings>& databases,
                           const server::CacheSettings& cache) {
    for (const server::DatabaseSettings& settings : databases) {
        bool known = false;
        for (const auto& db : databases_) known = known || db->name == settings.name;
        if (known || !settings.unusable.empty()) continue;
        auto db = std::make_unique<Database>();
        db->name = settings.name;
        db->where = "db." + settings.name + " (" + settings.primary.describe() + "/" + settings.dbname + ")";
        db->outside = registry(settings, "");
        try {
            KitRequest request;
            // IF NOT EXISTS: two db.<name> may be one database.
            db->outside->get(settings.name)
                .transaction(request)
                .execute("CREATE SCHEMA IF NOT EXISTS " + schema_);
        } catch (const std::exception& e) {
            CPPUNIT_FAIL("ApiTestCase: cannot create the test's schema " + schema_ + " in " + db->where +
                         ": " + e.what() + ". Is the local PostgreSQL running (scripts/postgres start)?");
        }
        db->inside = registry(settings, schema_);
        databases_.push_back(std::move(db));
    }
    if (cache.configured() && !redis_) {
        try {
            connect(cache)->execute<std::string>(Poco::Redis::Array() << "PING");
        } catch (const Poco::Exception& e) {
            CPPUNIT_FAIL("ApiTestCase: Redis does not answer at " + cache.describe() + ": " +
                         e.displayText() + ". Is the local Redis running (scripts/redis start)?");
        }
        redis_ = std::make_unique<Redis>();
        redis_->settings = cache;
    }
}

DbResult FreshStorage::query(const std::string& database, const std::string& sql,
                             const std::vector<Json>& params) {
    for (const auto& db : databases_)
        if (db->name == database) {
            KitRequest request;
            DbTransaction tx = db->inside->get(database).transaction(request);
            DbResult result = tx.query(sql, params);
            tx.commit();
            return result;
        }
    std::string names;
    for (const auto& db : databases_) names += (names.empty() ? "'" : ", '") + db->name + "'";
    throw std::invalid_argument("ApiTestCase::query: no database '" + database +
                                "' (the test's databases: " + (names.empty() ? "none" : names) + ")");
}

std::vector<std::string> FreshStorage::cleanUp() {
    std::vector<std::string> problems;
    for (const auto& db : databases_) {
        db->inside.reset();  // its connections sit in the schema
        try {
            KitRequest request;
            db->outside->get(db->name).transaction(request).execute("DROP SCHEMA IF EXISTS " + schema_ +
                                                                    " CASCADE");
        } catch (const std::exception& e) {
            problems.push_back("cannot drop the test's schema " + schema_ + " in " + db->where + ": " +
                               e.what());
        }
    }
    databases_.clear();
    if (redis_) {
        // Best effort: a test may leave Redis stopped, and a restarted one comes back empty.
        try {
            std::unique_ptr<Poco::Redis::Client> client = connect(redis_->settings);
            Poco::Redis::Array keys =
                client->execute<Poco::Redis::Array>(Poco::Redis::Array() << "KEYS" << keyPrefix_ + "*");
            if (!keys.isNull() && keys.size() > 0) {
                Poco::Redis::Array del;
                del << "DEL";
                for (std::size_t i = 0; i < keys.size(); ++i)
                    del << keys.get<Poco::Redis::BulkString>(i).value();
                client->execute<Poco::Int64>(del);
            }
        } catch (const Poco::Exception& e) {
            Poco::Logger::get("berth.kit")
                .warning("the test's Redis keys %s* are left: %s", keyPrefix_, e.displayText());
        }
        redis_.reset();
    }
    return problems;
}

}  // namespace berth::testkit
