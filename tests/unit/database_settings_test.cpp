// db.<name>.* settings (what --check-config reports, and the warning for an undefined
// ${system.env.X}) and the PostgreSQL text <-> berth::Json conversions, without a server.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include "db/database_settings.h"
#include "db/pg_values.h"
#include "test_helpers.h"

using berth::Json;
using berth::server::DatabaseSettings;
using berth::test::contains;
using Problems = std::vector<std::string>;

namespace {

std::vector<DatabaseSettings> load(std::initializer_list<std::pair<const char*, const char*>> values,
                                   Problems& problems, Problems& warnings) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    for (const auto& [key, value] : values) config->setString(key, value);
    return berth::server::loadDatabaseSettings(*config, problems, warnings);
}

std::string all(const Problems& problems) {
    std::string out;
    for (const std::string& p : problems) out += p + "\n";
    return out;
}

}  // namespace

class DatabaseSettingsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DatabaseSettingsTest);
    CPPUNIT_TEST(testValuesAndDefaults);
    CPPUNIT_TEST(testProblems);
    CPPUNIT_TEST(testUndefinedVariableIsAWarning);
    CPPUNIT_TEST(testConnectionStringEscapes);
    CPPUNIT_TEST(testDecodeCells);
    CPPUNIT_TEST(testEncodeParams);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testValuesAndDefaults() {
        Problems problems, warnings;
        auto dbs = load({{"db.main.host", "db1"},
                         {"db.main.dbname", "app"},
                         {"db.main.user", "u"},
                         {"db.main.pool_max", "4"},
                         {"db.main.replicas", "r1:5433, r2:6432"},
                         {"db.other.host", "h"},
                         {"db.other.dbname", "d"},
                         {"db.other.user", "u"}},
                        problems, warnings);
        CPPUNIT_ASSERT_MESSAGE(all(problems), problems.empty());
        CPPUNIT_ASSERT(warnings.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), dbs.size());
        CPPUNIT_ASSERT_EQUAL(std::string("main"), dbs[0].name);
        CPPUNIT_ASSERT_EQUAL(5432, dbs[0].primary.port);
        CPPUNIT_ASSERT_EQUAL(4, dbs[0].poolMax);
        CPPUNIT_ASSERT_EQUAL(2000, dbs[0].poolWaitMs);
        CPPUNIT_ASSERT_EQUAL(30000, dbs[0].statementTimeoutMs);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), dbs[0].replicas.size());
        CPPUNIT_ASSERT_EQUAL(std::string("r2:6432"), dbs[0].replicas[1].describe());
        CPPUNIT_ASSERT(dbs[1].replicas.empty());
    }

    void testProblems() {
        Problems problems, warnings;
        load({{"db.main.host", "h"},
              {"db.main.user", "u"},
              {"db.main.port", "eighty"},
              {"db.main.pool_min", "5"},
              {"db.main.pool_max", "2"},
              {"db.main.password", "with space"},
              {"db.main.replicas", "nohost, r:0"},
              {"db.main.hots", "x"},
              {"db.bad.name.host", "h"}},
             problems, warnings);
        std::string text = all(problems);
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "db.main.dbname is required for database 'main'"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "db.main.port = 'eighty' is not an integer"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "db.main.pool_min = 5 is above db.main.pool_max = 2"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "db.main.password contains a space"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "db.main.replicas: 'nohost' is not host:port"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "db.main.replicas: 'r:0' is not host:port"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "db.main.hots is not a berthd setting"));
        CPPUNIT_ASSERT_MESSAGE(text, contains(text, "db.bad.name is not a berthd setting"));
    }

    void testUndefinedVariableIsAWarning() {
        Problems problems, warnings;
        auto dbs = load({{"db.main.host", "${system.env.BERTH_SURELY_UNDEFINED_HOST}"},
                         {"db.main.port", "${system.env.BERTH_SURELY_UNDEFINED_PORT}"},
                         {"db.main.dbname", "d"},
                         {"db.main.user", "u"}},
                        problems, warnings);
        CPPUNIT_ASSERT_MESSAGE(all(problems), problems.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), warnings.size());
        CPPUNIT_ASSERT_MESSAGE(warnings[0], contains(warnings[0],
                                                     "database 'main' is not usable: db.main.host: "
                                                     "${system.env.BERTH_SURELY_UNDEFINED_HOST} is "
                                                     "not defined"));
        CPPUNIT_ASSERT(!dbs.at(0).unusable.empty());
    }

    void testConnectionStringEscapes() {
        DatabaseSettings db;
        db.dbname = "app";
        db.user = "o'neil";
        db.password = "p\\w";
        db.connectTimeoutS = 3;
        CPPUNIT_ASSERT_EQUAL(std::string("host=h port=1 dbname=app user=o\\'neil connect_timeout=3 "
                                         "application_name=berthd password=p\\\\w"),
                             db.connectionString({"h", 1}));
    }

    void testDecodeCells() {
        using berth::server::pg::decodeCell;
        CPPUNIT_ASSERT(decodeCell(16, "t") == Json(true));
        CPPUNIT_ASSERT(decodeCell(20, "-9223372036854775808") == Json(INT64_MIN));
        CPPUNIT_ASSERT(decodeCell(1700, "42") == Json(42));
        // Beyond 64 bits and 15 significant digits: the exact text, not a rounded 1e20.
        CPPUNIT_ASSERT(decodeCell(1700, "99999999999999999999") == Json("99999999999999999999"));
        CPPUNIT_ASSERT(decodeCell(1700, "100000000000000000000") == Json(1e20));
        CPPUNIT_ASSERT(decodeCell(1700, "1234567890.12345678") == Json("1234567890.12345678"));
        CPPUNIT_ASSERT(decodeCell(1700, "0.1") == Json(0.1));
        CPPUNIT_ASSERT(decodeCell(1700, "NaN").isNull());
        CPPUNIT_ASSERT(decodeCell(701, "Infinity").isNull());
        CPPUNIT_ASSERT(decodeCell(1184, "2024-05-01 10:30:00+00") == Json("2024-05-01T10:30:00Z"));
        CPPUNIT_ASSERT(decodeCell(1184, "2024-05-01 10:30:00+05:30") == Json("2024-05-01T10:30:00+05:30"));
        CPPUNIT_ASSERT(decodeCell(1184, "2024-05-01 10:30:00-03") == Json("2024-05-01T10:30:00-03:00"));
        CPPUNIT_ASSERT(decodeCell(1114, "2024-05-01 10:30:00.5") == Json("2024-05-01T10:30:00.5"));
        CPPUNIT_ASSERT_EQUAL(std::string(R"([1,null,3])"), decodeCell(1007, "{1,NULL,3}").dump());
        CPPUNIT_ASSERT_EQUAL(std::string(R"(["a b","q\"",null,"NULL"])"),
                             decodeCell(1009, R"({"a b","q\"",NULL,"NULL"})").dump());
        CPPUNIT_ASSERT_EQUAL(std::string("[[1,2],[3,4]]"),
                             decodeCell(1007, "[0:1][0:1]={{1,2},{3,4}}").dump());
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"a":[1]})"), decodeCell(3802, R"({"a": [1]})").dump());
        CPPUNIT_ASSERT(decodeCell(25, "plain") == Json("plain"));
    }

    void testEncodeParams() {
        using berth::server::pg::encodeParam;
        CPPUNIT_ASSERT(!encodeParam(Json(nullptr)));
        CPPUNIT_ASSERT_EQUAL(std::string("true"), *encodeParam(Json(true)));
        CPPUNIT_ASSERT_EQUAL(std::string("-5"), *encodeParam(Json(-5)));
        CPPUNIT_ASSERT_EQUAL(std::string("0.5"), *encodeParam(Json(0.5)));
        CPPUNIT_ASSERT_EQUAL(std::string("0.1"), *encodeParam(Json(0.1)));  // shortest round trip
        CPPUNIT_ASSERT_EQUAL(std::string("1e+300"), *encodeParam(Json(1e300)));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"1","a\"b",NULL,{"x"}})"),
                             *encodeParam(Json::array({1, "a\"b", nullptr, Json::array({"x"})})));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"k":[1]})"),
                             *encodeParam(Json::object({{"k", Json::array({1})}})));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DatabaseSettingsTest);
