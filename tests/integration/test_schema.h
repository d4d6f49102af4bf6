#pragma once
// A schema of its own for one test, in the test database: created empty, dropped (with everything
// in it) at the end. berthd is pointed at it with db.main.schema, so the plugins' tables and
// berth_migrations of one test never meet another's — nor those of a test run in parallel.

#include <memory>
#include <string>
#include <vector>

#include "berth/db.h"

namespace berth::server {
class DatabaseRegistry;
}

namespace berth::test {

class BerthdProcess;

class TestSchema {
  public:
    /// CREATE SCHEMA it_<pid>_<n>_<what>.
    explicit TestSchema(const std::string& what);
    /// DROP SCHEMA … CASCADE.
    ~TestSchema();

    const std::string& name() const { return name_; }
    /// Runs a statement with search_path set to the schema.
    DbResult query(const std::string& sql, const std::vector<Json>& params = {});
    bool tableExists(const std::string& table);
    bool columnExists(const std::string& table, const std::string& column);
    /// "plugin:version" of every berth_migrations row, in order; empty when there is no table.
    std::vector<std::string> recorded();
    /// Sets db.main.* of `berthd` to the test database and this schema.
    void configure(BerthdProcess& berthd) const;

  private:
    std::string name_;
    std::unique_ptr<server::DatabaseRegistry> registry_;
};

}  // namespace berth::test
