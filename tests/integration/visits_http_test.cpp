// The visits example plugin through berthd as a process: its migrations applied at start
// (auto_migrate), then create, read, list with paging, replace and delete over HTTP, with the
// 400 and 404 envelopes. Each test run works in a schema of its own.
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <cppunit/extensions/HelperMacros.h>

#include "berthd_process.h"
#include "http_probe.h"
#include "test_schema.h"

using berth::test::BerthdProcess;
using berth::test::HttpProbe;
using berth::test::HttpResult;
using berth::test::TestSchema;
using Poco::JSON::Object;

class VisitsHttpTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(VisitsHttpTest);
    CPPUNIT_TEST(testCrud);
    CPPUNIT_TEST(testValidationErrors);
    CPPUNIT_TEST(testListPaging);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        schema_ = std::make_unique<TestSchema>("visits");
        berthd_ = std::make_unique<BerthdProcess>();
        schema_->configure(*berthd_);
        berthd_->set("db.main.auto_migrate", "true");
        Poco::File(std::string(BERTH_PLUGIN_DIR) + "/visits.so").copyTo(berthd_->path("plugins/visits.so"));
        berthd_->writePluginSettings("visits", "prefix = /visits\ndatabase = main\n");
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port());
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
        schema_.reset();
    }

    HttpResult call(const std::string& method, const std::string& target, const std::string& body = "") {
        return http_->json(method, target, body);
    }

    static Object::Ptr data(const HttpResult& r) { return r.json()->getObject("data"); }

    void assertError(const HttpResult& r, int status, int code, const std::string& field = "") {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), status, r.status);
        Object::Ptr envelope = r.json();
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !envelope->getValue<bool>("status"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), code, envelope->getValue<int>("code"));
        CPPUNIT_ASSERT_MESSAGE(r.describe(), envelope->has("request_id"));
        if (!field.empty())
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), field,
                                         envelope->getObject("error")->getValue<std::string>("field"));
    }

    void testCrud() {
        CPPUNIT_ASSERT(schema_->tableExists("visit_tasks"));
        CPPUNIT_ASSERT(schema_->columnExists("visit_tasks", "scheduled_at"));  // migration 2

        HttpResult created =
            call("POST", "/visits/visit_tasks",
                 R"({"title":"Visit Dr. Ng","description":"bring samples","hospital_id":7,)"
                 R"("city_id":3,"product_ids":[1,2],"user_ids":[9],"scheduled_at":"2024-05-01T09:30:00Z"})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), 201, created.status);
        Object::Ptr task = data(created);
        std::int64_t id = task->getValue<std::int64_t>("id");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(created.describe(), "/visits/visit_tasks/" + std::to_string(id),
                                     created.header("Location"));
        CPPUNIT_ASSERT_EQUAL(std::string("pending"), task->getValue<std::string>("status"));
        CPPUNIT_ASSERT_EQUAL(std::string("2024-05-01T09:30:00Z"),
                             task->getValue<std::string>("scheduled_at"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), task->getArray("product_ids")->size());
        CPPUNIT_ASSERT(task->has("created_at") && task->has("updated_at"));

        std::string path = "/visits/visit_tasks/" + std::to_string(id);
        HttpResult got = http_->get(path);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(got.describe(), 200, got.status);
        CPPUNIT_ASSERT_EQUAL(std::string("Visit Dr. Ng"), data(got)->getValue<std::string>("title"));
        CPPUNIT_ASSERT_EQUAL(7, data(got)->getValue<int>("hospital_id"));

        HttpResult replaced =
            call("PUT", path, R"({"title":"Visit Dr. Ng again","hospital_id":8,"status":"done"})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(replaced.describe(), 200, replaced.status);
        Object::Ptr after = data(replaced);
        CPPUNIT_ASSERT_EQUAL(std::string("done"), after->getValue<std::string>("status"));
        CPPUNIT_ASSERT_MESSAGE("PUT replaces every field",
                               after->isNull("description") && after->isNull("city_id"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), after->getArray("product_ids")->size());

        HttpResult deleted = call("DELETE", path);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(deleted.describe(), 204, deleted.status);
        assertError(http_->get(path), 404, 40401);
        assertError(call("DELETE", path), 404, 40401);
        assertError(call("PUT", path, R"({"title":"x","hospital_id":1})"), 404, 40401);
        CPPUNIT_ASSERT(schema_->query("SELECT 1 FROM visit_tasks").empty());
    }

    void testValidationErrors() {
        const std::string url = "/visits/visit_tasks";
        assertError(call("POST", url, R"({"hospital_id":1})"), 400, 40001, "title");
        assertError(call("POST", url, R"({"title":"","hospital_id":1})"), 400, 40001, "title");
        assertError(call("POST", url, "{\"title\":\"" + std::string(201, 'a') + "\",\"hospital_id\":1}"), 400,
                    40001, "title");
        assertError(call("POST", url, R"({"title":"t"})"), 400, 40001, "hospital_id");
        assertError(call("POST", url, R"({"title":"t","hospital_id":"7"})"), 400, 40001, "hospital_id");
        assertError(call("POST", url, R"({"title":"t","hospital_id":1,"status":"later"})"), 400, 40001,
                    "status");
        assertError(call("POST", url, R"({"title":"t","hospital_id":1,"product_ids":[1,"x"]})"), 400, 40001,
                    "product_ids");
        assertError(call("POST", url, R"({"title":"t","hospital_id":1,"scheduled_at":"soon"})"), 400, 40001,
                    "scheduled_at");
        assertError(call("POST", url, R"({"title":"t","hospital_id":1,"colour":"red"})"), 400, 40001,
                    "colour");
        // PostgreSQL's loose timestamp inputs and zones it rejects: all 400, none stored, no 500.
        for (const char* when :
             {"now", "today", "epoch", "infinity", "May 1 2024", "2024-05-01", "2024-05-01 09:30:00Z",
              "2024-05-01T09:30:00", "2024-05-01T09:30:00 BC", "2024-05-01T09:30:00 Europe/Nowhere",
              "2024-05-01T09:30:00+25:00", "2024-02-30T09:30:00Z", "2023-02-29T00:00:00Z",
              "2024-05-01T24:00:00Z", "2024-05-01T09:30:00.Z", "0000-01-01T00:00:00Z"})
            assertError(call("POST", url,
                             std::string(R"({"title":"t","hospital_id":1,"scheduled_at":")") + when + "\"}"),
                        400, 40001, "scheduled_at");
        for (const char* when : {"2024-02-29T23:59:59.123456Z", "2024-05-01t09:30:00-07:30"}) {
            HttpResult ok = call(
                "POST", url, std::string(R"({"title":"t","hospital_id":1,"scheduled_at":")") + when + "\"}");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(when) + ": " + ok.describe(), 201, ok.status);
        }
        // NUL and other control characters cannot be stored: 400 naming the field, not 500.
        assertError(call("POST", url, R"({"title":"a\u0000b","hospital_id":1})"), 400, 40001, "title");
        assertError(call("POST", url, R"({"title":"a\u0007b","hospital_id":1})"), 400, 40001, "title");
        assertError(call("POST", url, R"({"title":"t","description":"x\u0000","hospital_id":1})"), 400, 40001,
                    "description");
        HttpResult lines = call("POST", url, R"({"title":"t","description":"a\tb\nc","hospital_id":1})");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(lines.describe(), 201, lines.status);
        assertError(call("POST", url, R"([1,2])"), 400, 40001, "body");
        assertError(http_->get(url + "?limit=0"), 400, 40001, "limit");
        assertError(http_->get(url + "?limit=101"), 400, 40001, "limit");
        assertError(http_->get(url + "?offset=-1"), 400, 40001, "offset");
        assertError(http_->get(url + "?limit=ten"), 400, 40001, "limit");
        CPPUNIT_ASSERT_EQUAL_MESSAGE("no invalid task may be stored (3 valid ones above)", std::size_t(3),
                                     schema_->query("SELECT 1 FROM visit_tasks").size());
    }

    void testListPaging() {
        for (int i = 1; i <= 25; ++i) {
            HttpResult r = call(
                "POST", "/visits/visit_tasks",
                "{\"title\":\"task " + std::to_string(i) + "\",\"hospital_id\":" + std::to_string(i) + "}");
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201, r.status);
        }
        HttpResult first = http_->get("/visits/visit_tasks");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.describe(), 200, first.status);
        CPPUNIT_ASSERT_EQUAL(std::size_t(20), data(first)->getArray("items")->size());  // the default limit
        CPPUNIT_ASSERT_EQUAL(25, data(first)->getValue<int>("total"));

        HttpResult page = http_->get("/visits/visit_tasks?limit=10&offset=20");
        Poco::JSON::Array::Ptr items = data(page)->getArray("items");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(page.describe(), std::size_t(5), items->size());
        CPPUNIT_ASSERT_EQUAL(std::string("task 21"), items->getObject(0)->getValue<std::string>("title"));
        CPPUNIT_ASSERT_EQUAL(10, data(page)->getValue<int>("limit"));
        CPPUNIT_ASSERT_EQUAL(20, data(page)->getValue<int>("offset"));

        HttpResult past = http_->get("/visits/visit_tasks?offset=100");
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), data(past)->getArray("items")->size());
        CPPUNIT_ASSERT_EQUAL(25, data(past)->getValue<int>("total"));
    }

  private:
    std::unique_ptr<TestSchema> schema_;
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(VisitsHttpTest);
