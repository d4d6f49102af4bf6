#pragma once
// The fresh storage of one ApiTestCase test: a PostgreSQL schema of its own in every database the
// host uses (created before the host starts, so that auto_migrate builds the plugins' tables in
// it) and a Redis key prefix of its own; both removed again at the end of the test. Through the
// host's own database layer, so the kit connects exactly as the plugins do.

#include <memory>
#include <string>
#include <vector>

#include "berth/db.h"
#include "berth/json.h"

namespace berth::server {
struct CacheSettings;
struct DatabaseSettings;
}  // namespace berth::server

namespace berth::testkit {

class FreshStorage {
  public:
    /// Picks the names: "kit_<pid>_<n>_<random>" and the same with ':' as the key prefix.
    FreshStorage();
    ~FreshStorage();
    FreshStorage(const FreshStorage&) = delete;
    FreshStorage& operator=(const FreshStorage&) = delete;

    const std::string& schema() const noexcept { return schema_; }
    const std::string& keyPrefix() const noexcept { return keyPrefix_; }

    /// Creates the schema in each database not prepared yet and checks that Redis answers (when
    /// configured); fails the test (CppUnit) naming the server and what to start.
    void prepare(const std::vector<server::DatabaseSettings>& databases, const server::CacheSettings& cache);
    /// `sql` in db.<database>, inside the schema, in a transaction of its own.
    DbResult query(const std::string& database, const std::string& sql, const std::vector<Json>& params);
    /// Drops the schema everywhere it was made and deletes the keys under the prefix. Returns what
    /// could not be cleaned (for the test's failure); never throws.
    std::vector<std::string> cleanUp();

  private:
    struct Database;
    struct Redis;
    std::string schema_;
    std::string keyPrefix_;
    std::vector<std::unique_ptr<Database>> databases_;
    std::unique_ptr<Redis> redis_;
};

}  // namespace berth::testkit
