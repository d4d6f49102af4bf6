#include "database_settings.h"

#include <Poco/String.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <algorithm>
#include <cctype>
#include <set>

#include "../app/service_settings_reader.h"
#include "strict_number.h"

namespace berth::server {
namespace {

const std::vector<std::string> kKeys = {"host",
                                        "port",
                                        "dbname",
                                        "user",
                                        "password",
                                        "pool_min",
                                        "pool_max",
                                        "pool_wait_ms",
                                        "connect_timeout_s",
                                        "statement_timeout_ms",
                                        "replicas",
                                        "schema",
                                        "auto_migrate"};

// The keys of one database (see ServiceSettingsReader), plus what only a database has.
class DatabaseReader : public ServiceSettingsReader {
  public:
    DatabaseReader(const Poco::Util::AbstractConfiguration& config, DatabaseSettings& db,
                   std::vector<std::string>& problems)
        : ServiceSettingsReader(config, "db." + db.name + ".", problems, db.unusable), name_(db.name) {}

    // A value for the connection string: Poco's connector splits it on spaces.
    std::string word(const std::string& key, const std::string& fallback, bool required) {
        std::string value = text(key, fallback);
        if (required && value.empty() && unusable().empty())
            problems().push_back(prefix() + key + " is required for database '" + name_ + "'");
        if (std::any_of(value.begin(), value.end(), [](unsigned char c) { return std::isspace(c); }))
            problems().push_back(prefix() + key +
                                 " contains a space, which Poco's PostgreSQL connector cannot pass on");
        return value;
    }

    std::vector<DatabaseEndpoint> endpoints(const std::string& key) {
        std::vector<DatabaseEndpoint> out;
        std::string list = text(key, "");
        std::size_t start = 0;
        while (start <= list.size() && !list.empty()) {
            std::size_t comma = list.find(',', start);
            std::string item =
                Poco::trim(list.substr(start, comma == std::string::npos ? comma : comma - start));
            start = comma == std::string::npos ? list.size() + 1 : comma + 1;
            if (item.empty()) continue;
            DatabaseEndpoint endpoint;
            std::size_t colon = item.rfind(':');
            std::int64_t port = 0;
            if (colon == std::string::npos || colon == 0 ||
                !internal::parseStrictInt64(item.substr(colon + 1), port) || port < 1 || port > 65535) {
                problems().push_back(prefix() + key + ": '" + item + "' is not host:port");
                continue;
            }
            endpoint.host = item.substr(0, colon);
            endpoint.port = static_cast<int>(port);
            out.push_back(endpoint);
        }
        return out;
    }

  private:
    std::string name_;
};

bool validName(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-';
    });
}

bool validSchema(const std::string& name) {
    return name.size() <= 63 && !std::isdigit(static_cast<unsigned char>(name[0])) &&
           std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '_'; });
}

// libpq reads backslash escapes in unquoted values: keep ' and \ literal.
std::string escape(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

std::string DatabaseSettings::connectionString(const DatabaseEndpoint& endpoint) const {
    std::string s = "host=" + escape(endpoint.host) + " port=" + std::to_string(endpoint.port) +
                    " dbname=" + escape(dbname) + " user=" + escape(user) +
                    " connect_timeout=" + std::to_string(connectTimeoutS) + " application_name=berthd";
    if (!password.empty()) s += " password=" + escape(password);
    return s;
}

std::vector<DatabaseSettings> loadDatabaseSettings(const Poco::Util::AbstractConfiguration& config,
                                                   std::vector<std::string>& problems,
                                                   std::vector<std::string>& warnings) {
    std::vector<DatabaseSettings> databases;
    Poco::Util::AbstractConfiguration::Keys names;
    config.keys("db", names);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        if (!validName(name)) {
            problems.push_back("db." + name + ": a database name is letters, digits, '_' and '-'");
            continue;
        }
        Poco::Util::AbstractConfiguration::Keys keys;
        config.keys("db." + name, keys);
        for (const std::string& key : keys)
            if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
                problems.push_back("db." + name + "." + key +
                                   " is not a berthd setting (see the comments in conf/berth.properties)");

        DatabaseSettings db;
        db.name = name;
        DatabaseReader read(config, db, problems);
        db.primary.host = read.word("host", "", true);
        db.primary.port = read.integer("port", 5432, 1, 65535);
        db.dbname = read.word("dbname", "", true);
        db.user = read.word("user", "", true);
        db.password = read.word("password", "", false);
        db.poolMin = read.integer("pool_min", db.poolMin, 0, 1000);
        db.poolMax = read.integer("pool_max", db.poolMax, 1, 1000);
        db.poolWaitMs = read.integer("pool_wait_ms", db.poolWaitMs, 0, 600000);
        db.connectTimeoutS = read.integer("connect_timeout_s", db.connectTimeoutS, 1, 600);
        db.statementTimeoutMs = read.integer("statement_timeout_ms", db.statementTimeoutMs, 0, 86400000);
        db.replicas = read.endpoints("replicas");
        db.schema = read.text("schema", "");
        if (!db.schema.empty() && !validSchema(db.schema))
            problems.push_back("db." + name + ".schema = '" + db.schema +
                               "' is not a plain schema name (lower-case letters, digits and '_', not "
                               "starting with a digit)");
        std::string autoMigrate = Poco::toLower(read.text("auto_migrate", "false"));
        if (autoMigrate == "true" || autoMigrate == "yes" || autoMigrate == "on" || autoMigrate == "1")
            db.autoMigrate = true;
        else if (!(autoMigrate == "false" || autoMigrate == "no" || autoMigrate == "off" ||
                   autoMigrate == "0"))
            problems.push_back("db." + name + ".auto_migrate = '" + autoMigrate +
                               "' is not a boolean (true/false)");
        if (db.poolMin > db.poolMax)
            problems.push_back("db." + name + ".pool_min = " + std::to_string(db.poolMin) + " is above db." +
                               name + ".pool_max = " + std::to_string(db.poolMax));
        if (!db.unusable.empty())
            warnings.push_back("database '" + name + "' is not usable: " + db.unusable +
                               "; berthd starts, and requests that use it get 503");
        databases.push_back(std::move(db));
    }
    return databases;
}

std::vector<std::string> databaseKeyNames() {
    return kKeys;
}

}  // namespace berth::server
