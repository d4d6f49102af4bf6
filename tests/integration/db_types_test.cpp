// The Db API against the real PostgreSQL: every type the SDK promises, both ways (bound as
// $n parameters and read back as typed cells and JSON), NULLs, SQL errors as DbError, and a
// clear error for an unknown database name.
#include <Poco/Logger.h>
#include <cppunit/extensions/HelperMacros.h>

#include "berth/db.h"
#include "berth/error.h"
#include "db/database_registry.h"
#include "pg_env.h"

using berth::DbConnection;
using berth::DbResult;
using berth::Json;
using berth::server::DatabaseRegistry;
using berth::test::TestRequest;

class DbTypesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DbTypesTest);
    CPPUNIT_TEST(testScalarsRoundTrip);
    CPPUNIT_TEST(testNullsAreNull);
    CPPUNIT_TEST(testTimestampsAreIso8601);
    CPPUNIT_TEST(testJsonAndArrays);
    CPPUNIT_TEST(testTableRoundTripToJson);
    CPPUNIT_TEST(testSqlErrorIsDbError);
    CPPUNIT_TEST(testParametersAreNeverSql);
    CPPUNIT_TEST(testUnknownDatabaseName);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        registry_ = std::make_unique<DatabaseRegistry>(std::vector{berth::test::testDatabase()},
                                                       Poco::Logger::get("berth.db"));
    }
    void tearDown() override { registry_.reset(); }

    void testScalarsRoundTrip() {
        DbConnection conn = registry_->get("main").acquire(request_);
        DbResult r = conn.query(
            "SELECT $1::int2 AS i2, $2::int4 AS i4, $3::int8 AS i8, $4::numeric AS num, $5::numeric AS big, "
            "$6::float8 AS f8, $7::float4 AS f4, $8::text AS t, $9::varchar AS v, $10::bool AS b, $11::bool "
            "AS nb, "
            "$12::uuid AS u, 12.50::numeric(6,2) AS money",
            {Json(-7), Json(2147483647), Json(INT64_MAX), Json("3.25"), Json("12345678901234"), Json(0.1),
             Json(1.5), Json("héllo \"q\" \\ 'x'"), Json("v"), Json(true), Json(false),
             Json("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")});
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.size());
        auto row = r[0];
        CPPUNIT_ASSERT(row["i2"] == Json(-7));
        CPPUNIT_ASSERT(row["i4"] == Json(2147483647));
        CPPUNIT_ASSERT(row["i8"] == Json(INT64_MAX));
        CPPUNIT_ASSERT(row["num"] == Json(3.25));
        CPPUNIT_ASSERT(row["big"] == Json(std::int64_t(12345678901234)));
        CPPUNIT_ASSERT(row["f8"] == Json(0.1));
        CPPUNIT_ASSERT(row["f4"] == Json(1.5));
        CPPUNIT_ASSERT_EQUAL(std::string("héllo \"q\" \\ 'x'"), row["t"].asString());
        CPPUNIT_ASSERT(row["v"] == Json("v"));
        CPPUNIT_ASSERT(row["b"] == Json(true));
        CPPUNIT_ASSERT(row["nb"] == Json(false));
        CPPUNIT_ASSERT(row["u"] == Json("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        CPPUNIT_ASSERT(row["money"] == Json(12.5));
        CPPUNIT_ASSERT_EQUAL(std::uint32_t(21), r.columns()[0].typeOid);
        CPPUNIT_ASSERT_EQUAL(std::string("i2"), r.columns()[0].name);
    }

    void testNullsAreNull() {
        DbConnection conn = registry_->get("main").acquire(request_);
        DbResult r = conn.query(
            "SELECT $1::int4 AS i, $2::text AS t, $3::timestamptz AS ts, $4::jsonb AS j, $5::int4[] AS a, "
            "NULL::numeric AS n, NULL::bool AS b",
            {nullptr, nullptr, nullptr, nullptr, nullptr});
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"([{"i":null,"t":null,"ts":null,"j":null,"a":null,"n":null,"b":null}])"),
            r.toJson().dump());
    }

    void testTimestampsAreIso8601() {
        DbConnection conn = registry_->get("main").acquire(request_);
        DbResult r = conn.query(
            "SELECT '2024-05-01 12:30:00.25+02'::timestamptz AS tz, '2024-05-01 12:30:00'::timestamp AS ts, "
            "$1::timestamptz AS bound, '2024-02-29'::date AS d, 'infinity'::timestamptz AS inf",
            {"2024-01-02T03:04:05.123456Z"});
        auto row = r[0];
        CPPUNIT_ASSERT_EQUAL(std::string("2024-05-01T10:30:00.25Z"), row["tz"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("2024-05-01T12:30:00"), row["ts"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("2024-01-02T03:04:05.123456Z"), row["bound"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("2024-02-29"), row["d"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("infinity"), row["inf"].asString());
    }

    void testJsonAndArrays() {
        DbConnection conn = registry_->get("main").acquire(request_);
        Json object = Json::object({{"a", 1}, {"b", Json::array({true, nullptr, "x"})}, {"c", 2.5}});
        DbResult r = conn.query(
            "SELECT $1::jsonb AS jb, $1::json AS j, $2::int4[] AS ints, $3::text[] AS texts, "
            "$4::int8[] AS empty, '{{1,2},{3,4}}'::int4[] AS matrix, '[1,{\"k\":\"v\"}]'::jsonb AS jarr, "
            "ARRAY[true,false,NULL] AS bools",
            {object, Json::array({1, nullptr, -3}),
             Json::array({"a", "b c", "q\"uote", "back\\slash", "NULL"}), Json::array()});
        auto row = r[0];
        CPPUNIT_ASSERT_EQUAL(object.dump(), row["jb"].dump());  // jsonb reorders keys; these are sorted
        CPPUNIT_ASSERT_EQUAL(object.dump(), row["j"].dump());
        CPPUNIT_ASSERT_EQUAL(std::string("[1,null,-3]"), row["ints"].dump());
        CPPUNIT_ASSERT_EQUAL(std::string(R"(["a","b c","q\"uote","back\\slash","NULL"])"),
                             row["texts"].dump());
        CPPUNIT_ASSERT_EQUAL(std::string("[]"), row["empty"].dump());
        CPPUNIT_ASSERT_EQUAL(std::string("[[1,2],[3,4]]"), row["matrix"].dump());
        CPPUNIT_ASSERT_EQUAL(std::string(R"([1,{"k":"v"}])"), row["jarr"].dump());
        CPPUNIT_ASSERT_EQUAL(std::string("[true,false,null]"), row["bools"].dump());
    }

    void testTableRoundTripToJson() {
        std::string table = berth::test::uniqueName("types");
        DbConnection conn = registry_->get("main").acquire(request_);
        conn.execute("CREATE TABLE " + table +
                     " (id bigserial PRIMARY KEY, name text NOT NULL, price numeric(10,2), ok boolean, "
                     "at timestamptz, tags text[], scores int4[], meta jsonb)");
        std::int64_t inserted = conn.execute(
            "INSERT INTO " + table +
                " (name, price, ok, at, tags, scores, meta) VALUES ($1, $2, $3, $4, $5, $6, $7), "
                "($8, NULL, NULL, NULL, NULL, NULL, NULL)",
            {"first", 19.99, true, "2024-05-01T10:00:00Z", Json::array({"x", "y"}), Json::array({3, 4}),
             Json::object({{"k", "v"}}), "second"});
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), inserted);
        DbResult rows =
            conn.query("SELECT name, price, ok, at, tags, scores, meta FROM " + table + " ORDER BY id");
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"([{"name":"first","price":19.99,"ok":true,"at":"2024-05-01T10:00:00Z","tags":["x","y"],)"
                R"("scores":[3,4],"meta":{"k":"v"}},)"
                R"({"name":"second","price":null,"ok":null,"at":null,"tags":null,"scores":null,"meta":null}])"),
            rows.toJson().dump());
        std::size_t count = 0;
        for (berth::DbRow row : rows) count += row.size();
        CPPUNIT_ASSERT_EQUAL(std::size_t(14), count);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), conn.execute("DELETE FROM " + table));
        conn.execute("DROP TABLE " + table);
    }

    void testSqlErrorIsDbError() {
        DbConnection conn = registry_->get("main").acquire(request_);
        try {
            conn.query("SELECT * FROM it_surely_missing_table");
            CPPUNIT_FAIL("no DbError");
        } catch (const berth::DbError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("42P01"), e.sqlState());
        }
        try {
            conn.query("SELECT $1::int4", {"not a number"});
            CPPUNIT_FAIL("no DbError");
        } catch (const berth::DbError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("22P02"), e.sqlState());
        }
        // The connection still serves after an error.
        berth::DbResult two = conn.query("SELECT 2 AS two");
        CPPUNIT_ASSERT(two[0]["two"] == Json(2));
    }

    void testParametersAreNeverSql() {
        DbConnection conn = registry_->get("main").acquire(request_);
        std::string evil = "x'); DROP TABLE pg_class; --";
        berth::DbResult echoed = conn.query("SELECT $1::text AS t", {evil});
        CPPUNIT_ASSERT_EQUAL(evil, echoed[0]["t"].asString());
    }

    void testUnknownDatabaseName() {
        try {
            registry_->get("reports");
            CPPUNIT_FAIL("no exception");
        } catch (const std::invalid_argument& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("no database 'reports' in berth.properties (db.<name>.host …); "
                                             "configured: 'main'"),
                                 std::string(e.what()));
        }
    }

  private:
    std::unique_ptr<DatabaseRegistry> registry_;
    TestRequest request_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(DbTypesTest);
