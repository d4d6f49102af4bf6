// The visits example plugin on the test kit's ApiTestCase (berth/testing.h): its migrations applied
// at start (auto_migrate) in the test's own schema, then create, read, list with paging, replace
// and delete over HTTP, with the 400 and 404 envelopes.
#include <cppunit/extensions/HelperMacros.h>

#include "berth/testing.h"

using berth::Json;
using berth::testing::ApiResult;
using berth::testing::ApiTestCase;

class VisitsHttpTest : public ApiTestCase {
    CPPUNIT_TEST_SUITE(VisitsHttpTest);
    CPPUNIT_TEST(testCrud);
    CPPUNIT_TEST(testValidationErrors);
    CPPUNIT_TEST(testListPaging);
    CPPUNIT_TEST_SUITE_END();

  public:
    VisitsHttpTest() : ApiTestCase({BERTH_VISITS_PLUGIN}, BERTH_SOURCE_DIR "/conf/berth.properties") {}

    // The body's bytes as written here (api().post would send Json's own rendering of them).
    ApiResult create(const std::string& body) {
        return api().send("POST", "/visits/visit_tasks", {}, {}, {}, body);
    }

    static void assertError(const ApiResult& r, int status, int code, const std::string& field = "") {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), status, r.status());
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.json()["status"].asBool());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), code, r.code());
        CPPUNIT_ASSERT_MESSAGE(r.describe(), r.json().find("request_id") != nullptr);
        if (!field.empty()) CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), field, r.error()["field"].asString());
    }

    bool columnExists(const std::string& table, const std::string& column) {
        return !query(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 "
                    "AND "
                    "column_name = $3",
                    {schema(), table, column})
                    .empty();
    }

    void testCrud() {
        CPPUNIT_ASSERT(columnExists("visit_tasks", "title"));         // migration 1
        CPPUNIT_ASSERT(columnExists("visit_tasks", "scheduled_at"));  // migration 2

        ApiResult created = create(
            R"({"title":"Visit Dr. Ng","description":"bring samples","hospital_id":7,)"
            R"("city_id":3,"product_ids":[1,2],"user_ids":[9],"scheduled_at":"2024-05-01T09:30:00Z"})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), 201, created.status());
        const Json& task = created.data();
        std::int64_t id = task["id"].asInt();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), "/visits/visit_tasks/" + std::to_string(id),
                                     created.header("Location"));
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), task["status"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("2024-05-01T09:30:00Z"), task["scheduled_at"].asString());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), task["product_ids"].size());
        CPPUNIT_ASSERT(task.find("created_at") != nullptr && task.find("updated_at") != nullptr);

        const std::string path = "/visits/visit_tasks/<id>";
        ApiResult got = api().get(path, {{"id", id}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(got.describe(), 200, got.status());
        CPPUNIT_ASSERT_EQUAL(std::string("Visit Dr. Ng"), got.data()["title"].asString());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), got.data()["hospital_id"].asInt());

        ApiResult replaced = api().put(
            path, {{"id", id}},
            Json::object({{"title", "Visit Dr. Ng again"}, {"hospital_id", 8}, {"status", "done"}}));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(replaced.describe(), 200, replaced.status());
        const Json& after = replaced.data();
        CPPUNIT_ASSERT_EQUAL(std::string("done"), after["status"].asString());
        CPPUNIT_ASSERT_MESSAGE("PUT replaces every field",
                               after["description"].isNull() && after["city_id"].isNull());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), after["product_ids"].size());

        ApiResult deleted = api().del(path, {{"id", id}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(deleted.describe(), 204, deleted.status());
        assertError(api().get(path, {{"id", id}}), 404, 40401);
        assertError(api().del(path, {{"id", id}}), 404, 40401);
        assertError(api().put(path, {{"id", id}}, Json::object({{"title", "x"}, {"hospital_id", 1}})), 404,
                    40401);
        CPPUNIT_ASSERT(query("SELECT 1 FROM visit_tasks").empty());
    }

    void testValidationErrors() {
        assertError(create(R"({"hospital_id":1})"), 400, 40001, "title");
        assertError(create(R"({"title":"","hospital_id":1})"), 400, 40001, "title");
        assertError(create("{\"title\":\"" + std::string(201, 'a') + "\",\"hospital_id\":1}"), 400, 40001,
                    "title");
        assertError(create(R"({"title":"t"})"), 400, 40001, "hospital_id");
        assertError(create(R"({"title":"t","hospital_id":"7"})"), 400, 40001, "hospital_id");
        assertError(create(R"({"title":"t","hospital_id":1,"status":"later"})"), 400, 40001, "status");
        assertError(create(R"({"title":"t","hospital_id":1,"product_ids":[1,"x"]})"), 400, 40001,
                    "product_ids");
        assertError(create(R"({"title":"t","hospital_id":1,"scheduled_at":"soon"})"), 400, 40001,
                    "scheduled_at");
        assertError(create(R"({"title":"t","hospital_id":1,"colour":"red"})"), 400, 40001, "colour");
        // PostgreSQL's loose timestamp inputs and zones it rejects: all 400, none stored, no 500.
        for (const char* when :
             {"now", "today", "epoch", "infinity", "May 1 2024", "2024-05-01", "2024-05-01 09:30:00Z",
              "2024-05-01T09:30:00", "2024-05-01T09:30:00 BC", "2024-05-01T09:30:00 Europe/Nowhere",
              "2024-05-01T09:30:00+25:00", "2024-02-30T09:30:00Z", "2023-02-29T00:00:00Z",
              "2024-05-01T24:00:00Z", "2024-05-01T09:30:00.Z", "0000-01-01T00:00:00Z"})
            assertError(
                api().post("/visits/visit_tasks",
                           Json::object({{"title", "t"}, {"hospital_id", 1}, {"scheduled_at", when}})),
                400, 40001, "scheduled_at");
        for (const char* when : {"2024-02-29T23:59:59.123456Z", "2024-05-01t09:30:00-07:30"}) {
            ApiResult ok =
                api().post("/visits/visit_tasks",
                           Json::object({{"title", "t"}, {"hospital_id", 1}, {"scheduled_at", when}}));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(when) + ": " + ok.describe(), 201, ok.status());
        }
        // NUL and other control characters cannot be stored: 400 naming the field, not 500.
        assertError(create(R"({"title":"a\u0000b","hospital_id":1})"), 400, 40001, "title");
        assertError(create(R"({"title":"a\u0007b","hospital_id":1})"), 400, 40001, "title");
        assertError(create(R"({"title":"t","description":"x\u0000","hospital_id":1})"), 400, 40001,
                    "description");
        ApiResult lines = create(R"({"title":"t","description":"a\tb\nc","hospital_id":1})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(lines.describe(), 201, lines.status());
        assertError(create(R"([1,2])"), 400, 40001, "body");
        const std::string url = "/visits/visit_tasks";
        assertError(api().get(url, {}, {{"limit", 0}}), 400, 40001, "limit");
        assertError(api().get(url, {}, {{"limit", 101}}), 400, 40001, "limit");
        assertError(api().get(url, {}, {{"offset", -1}}), 400, 40001, "offset");
        assertError(api().get(url, {}, {{"limit", "ten"}}), 400, 40001, "limit");
        CPPUNIT_ASSERT_EQUAL_MESSAGE("no invalid task may be stored (3 valid ones above)", std::size_t(3),
                                     query("SELECT 1 FROM visit_tasks").size());
    }

    void testListPaging() {
        for (int i = 1; i <= 25; ++i) {
            ApiResult r =
                api().post("/visits/visit_tasks",
                           Json::object({{"title", "task " + std::to_string(i)}, {"hospital_id", i}}));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201, r.status());
        }
        ApiResult first = api().get("/visits/visit_tasks");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.describe(), 200, first.status());
        CPPUNIT_ASSERT_EQUAL(std::size_t(20), first.data()["items"].size());  // the default limit
        CPPUNIT_ASSERT_EQUAL(std::int64_t(25), first.data()["total"].asInt());

        ApiResult page = api().get("/visits/visit_tasks", {}, {{"limit", 10}, {"offset", 20}});
        const Json& items = page.data()["items"];
        CPPUNIT_ASSERT_EQUAL_MESSAGE(page.describe(), std::size_t(5), items.size());
        CPPUNIT_ASSERT_EQUAL(std::string("task 21"), items.at(0)["title"].asString());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(10), page.data()["limit"].asInt());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(20), page.data()["offset"].asInt());

        ApiResult past = api().get("/visits/visit_tasks", {}, {{"offset", 100}});
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), past.data()["items"].size());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(25), past.data()["total"].asInt());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(VisitsHttpTest);
