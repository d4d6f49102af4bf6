// GET /visits/visit_tasks/<id>/detail on the test kit's ApiTestCase, with the four downstream
// services as MockService servers (berth/testing.h): the calls run at once (four answers delayed
// 200 ms each come back in well under their 800 ms sum), carry the request's X-Request-Id and
// tracing headers, and a failing service leaves its field null with an entry in "errors"; without
// the services configured the route answers 503 while the CRUD routes keep working.
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include "berth/testing.h"
#include "stopwatch.h"

using berth::Json;
using berth::testing::ApiResult;
using berth::testing::ApiTestCase;
using berth::testing::MockCall;
using berth::testing::MockService;

class VisitsDetailTest : public ApiTestCase {
    CPPUNIT_TEST_SUITE(VisitsDetailTest);
    CPPUNIT_TEST(testServicesCalledAtOnce);
    CPPUNIT_TEST(testFailingServicesLeaveFieldsNull);
    CPPUNIT_TEST(testMissingTaskAndEmptyFields);
    CPPUNIT_TEST(testFanOutDeadlineIs504);
    CPPUNIT_TEST(testServicesNotConfigured);
    CPPUNIT_TEST(testTracingHeaders);
    CPPUNIT_TEST_SUITE_END();

  public:
    VisitsDetailTest() : ApiTestCase({BERTH_VISITS_PLUGIN}, BERTH_SOURCE_DIR "/conf/berth.properties") {}

    void setUp() override {
        ApiTestCase::setUp();
        mocks_ = std::make_unique<Mocks>();
        setPlugin("visits", "cache_ttl_s", "0");
    }
    void tearDown() override {
        ApiTestCase::tearDown();  // the host first: it may still be calling the mocks
        mocks_.reset();
    }

    /// Points clients.<service>.url of the four services at the mocks.
    void useMocks() {
        for (auto [name, mock] : {std::pair{"hospital-service", &mocks_->hospitals},
                                  {"city-service", &mocks_->cities},
                                  {"product-service", &mocks_->products},
                                  {"user-service", &mocks_->users}})
            set(std::string("clients.") + name + ".url", mock->url());
    }

    std::int64_t createTask(const Json& body) {
        ApiResult r = api().post("/visits/visit_tasks", body);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 201, r.status());
        return r.data()["id"].asInt();
    }

    static Json newTask(int hospital, std::optional<int> city, Json products, Json users) {
        Json body = Json::object({{"title", "Visit"}, {"hospital_id", hospital}});
        if (city) body.set("city_id", *city);
        if (products.size() > 0) body.set("product_ids", std::move(products));
        if (users.size() > 0) body.set("user_ids", std::move(users));
        return body;
    }

    ApiResult detail(std::int64_t id, const berth::testing::ApiParams& headers = {}) {
        return api().get("/visits/visit_tasks/<id>/detail", {{"id", id}}, {}, headers);
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
        useMocks();
        std::int64_t id = createTask(newTask(7, 3, Json::array({1, 2}), Json::array({9})));

        auto started = berth::test::Clock::now();
        ApiResult r = detail(id, {{"X-Request-Id", "detail-test-1"}});
        long long took = berth::test::msSince(started);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status());
        // One after another: 4 × 200 = 800 ms; at once: 200 ms and the database read.
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 200 && took < 500);
        // At once means every call arrived before any mock answered (each answers `delay` after
        // its call arrived); two at a time would put the third call after the first answer.
        auto first = std::chrono::steady_clock::time_point::max();
        auto last = std::chrono::steady_clock::time_point::min();
        for (MockService* mock : {&mocks_->hospitals, &mocks_->cities, &mocks_->products, &mocks_->users}) {
            std::vector<MockCall> calls = mock->received();
            CPPUNIT_ASSERT_EQUAL(std::size_t(1), calls.size());
            first = std::min(first, calls[0].receivedAt);
            last = std::max(last, calls[0].receivedAt);
        }
        auto spread = std::chrono::duration_cast<std::chrono::milliseconds>(last - first);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(spread.count()) + " ms between the first and the last call",
                               spread < delay);

        const Json& task = r.data();
        CPPUNIT_ASSERT_EQUAL(std::string("Visit"), task["title"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("St. Ann"), task["hospital"]["name"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("Lyon"), task["city"]["name"].asString());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), task["products"].size());
        CPPUNIT_ASSERT_EQUAL(std::string("Ana"), task["users"].at(0)["name"].asString());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::size_t(0), task["errors"].size());

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
        useMocks();
        set("clients.city-service.retries", "0");
        set("clients.user-service.read_timeout_ms", "150");
        std::int64_t id = createTask(newTask(7, 3, Json::array({1}), Json::array({9})));

        ApiResult r = detail(id);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status());
        const Json& task = r.data();
        CPPUNIT_ASSERT(task["hospital"].isNull() && task["city"].isNull() && task["users"].isNull());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), task["products"].size());
        const Json& errors = task["errors"];
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::size_t(3), errors.size());
        // In the order of the fields: hospital (answered 404), city (refused), users (timed out).
        const Json &hospital = errors.at(0), &city = errors.at(1), &users = errors.at(2);
        CPPUNIT_ASSERT_EQUAL(std::string("hospital"), hospital["field"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("hospital-service"), hospital["service"].asString());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(50202), hospital["code"].asInt());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(404), hospital["detail"]["status"].asInt());
        CPPUNIT_ASSERT_EQUAL(std::string("city"), city["field"].asString());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(50201), city["code"].asInt());
        CPPUNIT_ASSERT_EQUAL(std::string("service 'city-service' is unreachable"),
                             city["message"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("users"), users["field"].asString());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(50401), users["code"].asInt());
    }

    void testMissingTaskAndEmptyFields() {
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}));
        useMocks();
        ApiResult missing = detail(999999);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(missing.describe(), 404, missing.status());
        CPPUNIT_ASSERT_EQUAL(40401, missing.code());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), mocks_->hospitals.received().size());

        // No city, no products, no users: nothing to ask those services.
        std::int64_t id = createTask(newTask(7, std::nullopt, Json::array(), Json::array()));
        ApiResult r = detail(id);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status());
        const Json& task = r.data();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), task["hospital"]["id"].asInt());
        CPPUNIT_ASSERT(task["city"].isNull());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), task["products"].size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), task["users"].size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), task["errors"].size());
        for (MockService* mock : {&mocks_->cities, &mocks_->products, &mocks_->users})
            CPPUNIT_ASSERT(mock->received().empty());
    }

    void testFanOutDeadlineIs504() {
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}))
            .delay(std::chrono::milliseconds(1500));
        setPlugin("visits", "detail_timeout_ms", "300");
        useMocks();
        std::int64_t id = createTask(newTask(7, std::nullopt, Json::array(), Json::array()));
        auto started = berth::test::Clock::now();
        ApiResult r = detail(id);
        long long took = berth::test::msSince(started);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 504, r.status());
        CPPUNIT_ASSERT_EQUAL(50402, r.code());
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took < 1000);
    }

    void testServicesNotConfigured() {
        unset("clients");  // conf/berth.properties names the four services
        start();
        CPPUNIT_ASSERT_MESSAGE(log(), waitForLog("will answer 503: no service 'hospital-service'"));
        std::int64_t id = createTask(newTask(7, std::nullopt, Json::array(), Json::array()));
        ApiResult r = detail(id);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 503, r.status());
        CPPUNIT_ASSERT_EQUAL(50311, r.code());
        const Json& missing = r.error()["missing"];
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), missing.size());
        CPPUNIT_ASSERT_EQUAL(std::string("clients.hospital-service.url"), missing.at(0).asString());
        ApiResult plain = api().get("/visits/visit_tasks/<id>", {{"id", id}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(plain.describe(), 200, plain.status());
    }

    // With tracing on, each downstream call is a client span of the request's trace: the four
    // services get the caller's trace id, each with a span id of its own, in B3 and traceparent.
    void testTracingHeaders() {
        mocks_->hospitals.get("/hospitals/7", Json::object({{"id", 7}}));
        mocks_->cities.get("/cities/3", Json::object({{"id", 3}}));
        mocks_->products.get("/products", Json::array());
        mocks_->users.get("/users", Json::array());
        set("tracing.enabled", "true");
        set("tracing.sample_rate", "1");
        set("tracing.file", "spans.jsonl");  // in dir()
        useMocks();
        std::int64_t id = createTask(newTask(7, 3, Json::array({1}), Json::array({2})));
        const std::string traceId = "463ac35c9f6413ad48485a3953bb6124";
        ApiResult r = detail(
            id, {{"X-B3-TraceId", traceId}, {"X-B3-SpanId", "a2fb4a1d1a96d312"}, {"X-B3-Sampled", "1"}});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status());
        std::set<std::string> spans;
        for (MockService* mock : {&mocks_->hospitals, &mocks_->cities, &mocks_->products, &mocks_->users}) {
            MockCall call = mock->received().at(0);
            CPPUNIT_ASSERT_EQUAL(traceId, call.header("X-B3-TraceId"));
            CPPUNIT_ASSERT_EQUAL(std::string("1"), call.header("X-B3-Sampled"));
            std::string span = call.header("X-B3-SpanId");
            CPPUNIT_ASSERT_EQUAL(std::size_t(16), span.size());
            // The parent is a span of the host: present, and not the caller's span.
            CPPUNIT_ASSERT_EQUAL(std::size_t(16), call.header("X-B3-ParentSpanId").size());
            CPPUNIT_ASSERT(call.header("X-B3-ParentSpanId") != "a2fb4a1d1a96d312");
            CPPUNIT_ASSERT_EQUAL("00-" + traceId + "-" + span + "-01", call.header("traceparent"));
            spans.insert(span);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), spans.size());
    }

  private:
    // Made per test (CppUnit makes every fixture up front): four servers at a time, not twenty-four.
    struct Mocks {
        MockService hospitals, cities, products, users;
    };
    std::unique_ptr<Mocks> mocks_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(VisitsDetailTest);
