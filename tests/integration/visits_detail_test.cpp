// GET /visits/visit_tasks/<id>/detail through berthd as a process, with the four downstream
// services as MockService servers (berth/testing.h): the calls run at once (four answers delayed
// 200 ms each come back in well under their 800 ms sum), carry the request's X-Request-Id, and a
// failing service leaves its field null with an entry in "errors"; without the services configured
// the route answers 503 while the CRUD routes keep working.
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <set>

#include "berth/testing.h"
#include "berthd_process.h"
#include "http_probe.h"
#include "stopwatch.h"
#include "test_schema.h"

using berth::Json;
using berth::test::BerthdProcess;
using berth::test::HttpProbe;
using berth::test::HttpResult;
using berth::test::TestSchema;
using berth::testing::MockCall;
using berth::testing::MockService;
using Poco::JSON::Object;

class VisitsDetailTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(VisitsDetailTest);
    CPPUNIT_TEST(testServicesCalledAtOnce);
    CPPUNIT_TEST(testFailingServicesLeaveFieldsNull);
    CPPUNIT_TEST(testMissingTaskAndEmptyFields);
    CPPUNIT_TEST(testFanOutDeadlineIs504);
    CPPUNIT_TEST(testServicesNotConfigured);
    CPPUNIT_TEST(testTracingHeaders);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        mocks_ = std::make_unique<Mocks>();
        schema_ = std::make_unique<TestSchema>("visits_detail");
        berthd_ = std::make_unique<BerthdProcess>();
        schema_->configure(*berthd_);
        berthd_->set("db.main.auto_migrate", "true");
        Poco::File(std::string(BERTH_PLUGIN_DIR) + "/visits.so").copyTo(berthd_->path("plugins/visits.so"));
        berthd_->writePluginSettings("visits", "prefix = /visits\ndatabase = main\ncache_ttl_s = 0\n");
    }
    void tearDown() override {
        http_.reset();
        berthd_.reset();
        schema_.reset();
        mocks_.reset();
    }

    /// Points clients.<service>.url of the four services at the mocks and starts berthd.
    void startWithServices() {
        for (auto [name, mock] : {std::pair{"hospital-service", &mocks_->hospitals},
                                  {"city-service", &mocks_->cities},
                                  {"product-service", &mocks_->products},
                                  {"user-service", &mocks_->users}})
            berthd_->set(std::string("clients.") + name + ".url", mock->url());
        start();
    }

    void start() {
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port());
    }

    std::int64_t createTask(const std::string& body) {
        HttpResult r = http_->post("/visits/visit_tasks", body);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201, r.status);
        return r.json()->getObject("data")->getValue<std::int64_t>("id");
    }

    static std::string detailPath(std::int64_t id) {
        return "/visits/visit_tasks/" + std::to_string(id) + "/detail";
    }

    void testServicesCalledAtOnce() {
        const auto delay = std::chrono::milliseconds(200);
        // hospital-service answers with Berth's envelope, the others with bare JSON: both are read.
        mocks_->hospitals
            .get("/hospitals/7", Json::object({{"status", true},
                                               {"code", 0},
                                               {"message", "ok"},
                                               {"data", Json::object({{"id", 7}, {"name", "St. Ann"}})}}))
            .delay(delay);
        mocks_->cities.get("/cities/3", Json::object({{"id", 3}, {"name", "Lyon"}})).delay(delay);
        mocks_->products.get("/products", Json::array({Json::object({{"id", 1}}), Json::object({{"id", 2}})}))
            .delay(delay);
        mocks_->users.get("/users", Json::array({Json::object({{"id", 9}, {"name", "Ana"}})})).delay(delay);
        startWithServices();
        std::int64_t id =
            createTask(R"({"title":"Visit","hospital_id":7,"city_id":3,"product_ids":[1,2],"user_ids":[9]})");

        auto started = berth::test::Clock::now();
        HttpResult r = http_->get(detailPath(id), {{"X-Request-Id", "detail-test-1"}});
        long long took = berth::test::msSince(started);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        // One after another: 4 × 200 = 800 ms; at once: 200 ms and the database read.
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 200 && took < 500);

        Object::Ptr task = r.json()->getObject("data");
        CPPUNIT_ASSERT_EQUAL(std::string("Visit"), task->getValue<std::string>("title"));
        CPPUNIT_ASSERT_EQUAL(std::string("St. Ann"),
                             task->getObject("hospital")->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("Lyon"), task->getObject("city")->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), task->getArray("products")->size());
        CPPUNIT_ASSERT_EQUAL(std::string("Ana"),
                             task->getArray("users")->getObject(0)->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::size_t(0), task->getArray("errors")->size());

        CPPUNIT_ASSERT_EQUAL(std::string("ids=1,2"),
                             mocks_->products.received("GET", "/products").at(0).query);
        CPPUNIT_ASSERT_EQUAL(std::string("ids=9"), mocks_->users.received("GET", "/users").at(0).query);
        for (MockService* mock : {&mocks_->hospitals, &mocks_->cities, &mocks_->products, &mocks_->users}) {
            std::vector<MockCall> calls = mock->received();
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), calls.size());
            CPPUNIT_ASSERT_EQUAL(std::string("detail-test-1"), calls[0].header("X-Request-Id"));
        }
    }

    void testFailingServicesLeaveFieldsNull() {
        mocks_->hospitals.get("/hospitals/7")
            .status(404)
            .json(Json::object({{"message", "no such hospital"}}));
        mocks_->cities.stop();  // unreachable
        mocks_->products.get("/products", Json::array({Json::object({{"id", 1}})}));
        mocks_->users.get("/users", Json::array()).delay(std::chrono::milliseconds(1500));
        berthd_->set("clients.city-service.retries", "0");
        berthd_->set("clients.user-service.read_timeout_ms", "150");
        startWithServices();
        std::int64_t id =
            createTask(R"({"title":"Visit","hospital_id":7,"city_id":3,"product_ids":[1],"user_ids":[9]})");

        HttpResult r = http_->get(detailPath(id));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        Object::Ptr task = r.json()->getObject("data");
        CPPUNIT_ASSERT(task->isNull("hospital") && task->isNull("city") && task->isNull("users"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), task->getArray("products")->size());
        Poco::JSON::Array::Ptr errors = task->getArray("errors");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::size_t(3), errors->size());
        // In the order of the fields: hospital (answered 404), city (refused), users (timed out).
        Object::Ptr hospital = errors->getObject(0), city = errors->getObject(1),
                    users = errors->getObject(2);
        CPPUNIT_ASSERT_EQUAL(std::string("hospital"), hospital->getValue<std::string>("field"));
        CPPUNIT_ASSERT_EQUAL(std::string("hospital-service"), hospital->getValue<std::string>("service"));
        CPPUNIT_ASSERT_EQUAL(50202, hospital->getValue<int>("code"));
        CPPUNIT_ASSERT_EQUAL(404, hospital->getObject("detail")->getValue<int>("status"));
        CPPUNIT_ASSERT_EQUAL(std::string("city"), city->getValue<std::string>("field"));
        CPPUNIT_ASSERT_EQUAL(50201, city->getValue<int>("code"));
        CPPUNIT_ASSERT_EQUAL(std::string("service 'city-service' is unreachable"),
                             city->getValue<std::string>("message"));
        CPPUNIT_ASSERT_EQUAL(std::string("users"), users->getValue<std::string>("field"));
        CPPUNIT_ASSERT_EQUAL(50401, users->getValue<int>("code"));
    }

    void testMissingTaskAndEmptyFields() {
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}));
        startWithServices();
        HttpResult missing = http_->get(detailPath(999999));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(missing.describe(), 404, missing.status);
        CPPUNIT_ASSERT_EQUAL(40401, missing.json()->getValue<int>("code"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), mocks_->hospitals.received().size());

        // No city, no products, no users: nothing to ask those services.
        std::int64_t id = createTask(R"({"title":"Visit","hospital_id":7})");
        HttpResult r = http_->get(detailPath(id));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        Object::Ptr task = r.json()->getObject("data");
        CPPUNIT_ASSERT_EQUAL(7, task->getObject("hospital")->getValue<int>("id"));
        CPPUNIT_ASSERT(task->isNull("city"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), task->getArray("products")->size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), task->getArray("users")->size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), task->getArray("errors")->size());
        for (MockService* mock : {&mocks_->cities, &mocks_->products, &mocks_->users})
            CPPUNIT_ASSERT(mock->received().empty());
    }

    void testFanOutDeadlineIs504() {
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}))
            .delay(std::chrono::milliseconds(1500));
        berthd_->writePluginSettings(
            "visits", "prefix = /visits\ndatabase = main\ncache_ttl_s = 0\ndetail_timeout_ms = 300\n");
        startWithServices();
        std::int64_t id = createTask(R"({"title":"Visit","hospital_id":7})");
        auto started = berth::test::Clock::now();
        HttpResult r = http_->get(detailPath(id));
        long long took = berth::test::msSince(started);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 504, r.status);
        CPPUNIT_ASSERT_EQUAL(50402, r.json()->getValue<int>("code"));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took < 1000);
    }

    void testServicesNotConfigured() {
        start();
        CPPUNIT_ASSERT(berthd_->waitForLog("will answer 503: no service 'hospital-service'"));
        std::int64_t id = createTask(R"({"title":"Visit","hospital_id":7})");
        HttpResult r = http_->get(detailPath(id));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 503, r.status);
        CPPUNIT_ASSERT_EQUAL(50311, r.json()->getValue<int>("code"));
        Poco::JSON::Array::Ptr missing = r.json()->getObject("error")->getArray("missing");
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), missing->size());
        CPPUNIT_ASSERT_EQUAL(std::string("clients.hospital-service.url"),
                             missing->getElement<std::string>(0));
        HttpResult plain = http_->get("/visits/visit_tasks/" + std::to_string(id));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(plain.describe(), 200, plain.status);
    }

    // With tracing on, each downstream call is a client span of the request's trace: the four
    // services get the caller's trace id, each with a span id of its own, in B3 and traceparent.
    void testTracingHeaders() {
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}));
        mocks_->cities.get("/cities/3", Json::object({{"id", 3}}));
        mocks_->products.get("/products", Json::array());
        mocks_->users.get("/users", Json::array());
        berthd_->set("tracing.enabled", "true");
        berthd_->set("tracing.sample_rate", "1");
        berthd_->set("tracing.file", berthd_->path("spans.jsonl"));
        startWithServices();
        std::int64_t id =
            createTask(R"({"title":"Visit","hospital_id":7,"city_id":3,"product_ids":[1],"user_ids":[2]})");
        const std::string traceId = "463ac35c9f6413ad48485a3953bb6124";
        HttpResult r = http_->get(
            detailPath(id),
            {{"X-B3-TraceId", traceId}, {"X-B3-SpanId", "a2fb4a1d1a96d312"}, {"X-B3-Sampled", "1"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
        std::set<std::string> spans;
        for (MockService* mock : {&mocks_->hospitals, &mocks_->cities, &mocks_->products, &mocks_->users}) {
            MockCall call = mock->received().at(0);
            CPPUNIT_ASSERT_EQUAL(traceId, call.header("X-B3-TraceId"));
            CPPUNIT_ASSERT_EQUAL(std::string("1"), call.header("X-B3-Sampled"));
            std::string span = call.header("X-B3-SpanId");
            CPPUNIT_ASSERT_EQUAL(std::size_t(16), span.size());
            CPPUNIT_ASSERT(call.header("X-B3-ParentSpanId") != "a2fb4a1d1a96d312");  // berthd's server span
            CPPUNIT_ASSERT_EQUAL("00-" + traceId + "-" + span + "-01", call.header("traceparent"));
            spans.insert(span);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), spans.size());
    }

  private:
    // Made per test (CppUnit makes every fixture up front): four servers at a time, not twenty.
    struct Mocks {
        MockService hospitals, cities, products, users;
    };
    std::unique_ptr<Mocks> mocks_;
    std::unique_ptr<TestSchema> schema_;
    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(VisitsDetailTest);
