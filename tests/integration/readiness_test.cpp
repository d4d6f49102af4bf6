// GET /ready with berthd as a process against the real PostgreSQL (primary and replica) and Redis:
// 200 "ready" while everything answers; PostgreSQL stopped → 503 naming db.main within
// server.ready_timeout_ms (plus the 1 s the outcome is kept), and 200 again once it is back; a
// PostgreSQL that hangs (SIGSTOP) → "timeout after 500 ms", answered within the timeout; Redis
// stopped → still 200 but "degraded" (503 under server.ready_strict = true), "ready" once back.
#include <Poco/JSON/Object.h>
#include <cppunit/extensions/HelperMacros.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "berthd_process.h"
#include "http_probe.h"
#include "pg_env.h"
#include "redis_env.h"

using berth::test::BerthdProcess;
using berth::test::HttpProbe;
using berth::test::HttpResult;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kReadyTimeoutMs = 500;
constexpr int kCacheMs = 1000;  // how long berthd keeps an outcome

long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

std::string shellOutput(const std::string& command) {
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
        char buffer[256];
        while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
        ::pclose(pipe);
    }
    return out;
}

// The primary's postmaster and every process it forked (the pooled sessions' backends).
std::vector<pid_t> primaryProcesses() {
    std::string postmaster = shellOutput(std::string(BERTH_SOURCE_DIR) + "/scripts/postgres pid 2>/dev/null");
    CPPUNIT_ASSERT_MESSAGE("scripts/postgres pid printed nothing", !postmaster.empty());
    std::vector<pid_t> pids{static_cast<pid_t>(std::stol(postmaster))};
    std::string children = shellOutput("pgrep -P " + std::to_string(pids[0]));
    for (std::size_t at = 0; at < children.size();) {
        std::size_t end = children.find('\n', at);
        if (end == std::string::npos) end = children.size();
        if (end > at) pids.push_back(static_cast<pid_t>(std::stol(children.substr(at, end - at))));
        at = end + 1;
    }
    return pids;
}

}  // namespace

class ReadinessTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ReadinessTest);
    CPPUNIT_TEST(testReadyFollowsPostgres);
    CPPUNIT_TEST(testHungPostgresTimesOut);
    CPPUNIT_TEST(testRedisDownIsDegraded);
    CPPUNIT_TEST(testRedisDownIsNotReadyWhenStrict);
    CPPUNIT_TEST_SUITE_END();

  public:
    // Whatever happened, leave every server running for the next test.
    void tearDown() override {
        for (pid_t pid : stopped_) ::kill(pid, SIGCONT);
        stopped_.clear();
        berthd_.reset();
        berth::test::postgresScript("start --replica >/dev/null");
        berth::test::redisScript("start >/dev/null");
    }

    void testReadyFollowsPostgres() {
        start(false);
        HttpResult ready = http_->get("/ready");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(ready.describe(), 200, ready.status);
        Poco::JSON::Object::Ptr data = ready.json()->getObject("data");
        CPPUNIT_ASSERT_EQUAL(std::string("ready"), data->getValue<std::string>("status"));
        Poco::JSON::Object::Ptr parts = data->getObject("parts");
        berth::test::PgEnv pg = berth::test::pgEnv();
        for (const std::string& part :
             {std::string("plugin.hello"), std::string("plugin.db_probe"), std::string("db.main"),
              "db.main.replica." + pg.host + ":" + std::to_string(pg.replicaPort), std::string("redis")})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(ready.describe(), std::string("up"),
                                         parts->optValue<std::string>(part, ""));

        berth::test::postgresScript("stop >/dev/null");
        auto stoppedAt = Clock::now();
        HttpResult down = waitFor([](const HttpResult& r) { return r.status == 503; }, 10000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.describe() + berthd_->log(), 503, down.status);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(stoppedAt)) + " ms",
                               msSince(stoppedAt) < kReadyTimeoutMs + kCacheMs + 1000);
        Poco::JSON::Object::Ptr envelope = down.json();
        CPPUNIT_ASSERT_EQUAL(std::string("not ready"), envelope->getValue<std::string>("message"));
        CPPUNIT_ASSERT_EQUAL(503, envelope->getValue<int>("code"));
        Poco::JSON::Object::Ptr failing = envelope->getObject("error");
        CPPUNIT_ASSERT_MESSAGE(down.describe(), failing->has("db.main"));
        CPPUNIT_ASSERT_MESSAGE(down.describe(), !failing->getValue<std::string>("db.main").empty());
        CPPUNIT_ASSERT_MESSAGE(down.describe(), !failing->has("plugin.hello") && !failing->has("redis"));

        berth::test::postgresScript("start --replica >/dev/null");
        auto startedAt = Clock::now();
        HttpResult back = waitFor([](const HttpResult& r) { return r.status == 200; }, 15000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(back.describe() + berthd_->log(), 200, back.status);
        // The pool's connect backoff (at most 4 s) plus the cached outcome.
        CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(startedAt)) + " ms",
                               msSince(startedAt) < 4000 + kCacheMs + 1000);
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

    // A server that accepts and never answers: the answer still comes within the timeout.
    void testHungPostgresTimesOut() {
        start(false);
        CPPUNIT_ASSERT_EQUAL(200, http_->get("/ready").status);  // a pooled session now exists
        for (pid_t pid : primaryProcesses())
            if (::kill(pid, SIGSTOP) == 0) stopped_.push_back(pid);
        std::this_thread::sleep_for(std::chrono::milliseconds(kCacheMs + 50));
        // The ping's statement misses its deadline; the next ping hangs in connect
        // (connect_timeout_s = 2) and is not started again meanwhile; then the failed connect is
        // reported until the pool's backoff lets it try again. Every answer is prompt.
        int timedOut = 0;
        for (int i = 0; i < 3; ++i) {
            auto asked = Clock::now();
            HttpResult hung = http_->get("/ready");
            long long took = msSince(asked);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(hung.describe(), 503, hung.status);
            std::string reason = hung.json()->getObject("error")->optValue<std::string>("db.main", "");
            CPPUNIT_ASSERT_MESSAGE(hung.describe(), reason.find("timeout") != std::string::npos ||
                                                        reason.find("deadline") != std::string::npos);
            if (reason == "timeout after 500 ms") ++timedOut;
            CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took < kReadyTimeoutMs + 400);
            std::this_thread::sleep_for(std::chrono::milliseconds(kCacheMs + 50));
        }
        CPPUNIT_ASSERT(timedOut >= 1);
        for (pid_t pid : stopped_) ::kill(pid, SIGCONT);
        stopped_.clear();
        HttpResult back = waitFor([](const HttpResult& r) { return r.status == 200; }, 15000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(back.describe() + berthd_->log(), 200, back.status);
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

    // Redis down means slower requests (cache misses), not failed ones: reported, still ready.
    void testRedisDownIsDegraded() {
        start(false);
        berth::test::redisScript("stop >/dev/null");
        HttpResult degraded = waitFor([](const HttpResult& r) { return status(r) == "degraded"; }, 5000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(degraded.describe(), 200, degraded.status);
        Poco::JSON::Object::Ptr parts = degraded.json()->getObject("data")->getObject("parts");
        CPPUNIT_ASSERT_MESSAGE(degraded.describe(), parts->getValue<std::string>("redis") != "up");
        CPPUNIT_ASSERT_EQUAL(std::string("up"), parts->getValue<std::string>("db.main"));

        berth::test::redisScript("start >/dev/null");
        HttpResult ready = waitFor([](const HttpResult& r) { return status(r) == "ready"; }, 10000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(ready.describe() + berthd_->log(), std::string("ready"), status(ready));
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

    void testRedisDownIsNotReadyWhenStrict() {
        start(true);
        CPPUNIT_ASSERT_EQUAL(200, http_->get("/ready").status);
        berth::test::redisScript("stop >/dev/null");
        HttpResult down = waitFor([](const HttpResult& r) { return r.status == 503; }, 5000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(down.describe(), 503, down.status);
        Poco::JSON::Object::Ptr failing = down.json()->getObject("error");
        CPPUNIT_ASSERT_MESSAGE(down.describe(), failing->has("redis") && !failing->has("db.main"));

        berth::test::redisScript("start >/dev/null");
        HttpResult back = waitFor([](const HttpResult& r) { return r.status == 200; }, 10000);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(back.describe() + berthd_->log(), 200, back.status);
        CPPUNIT_ASSERT_EQUAL(0, berthd_->stop());
    }

  private:
    void start(bool strict) {
        berth::test::PgEnv pg = berth::test::pgEnv();
        berth::test::RedisEnv redis = berth::test::redisEnv();
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addHelloPlugin();
        berthd_->addFixture("db_probe");
        berthd_->set("db.main.host", pg.host);
        berthd_->set("db.main.port", std::to_string(pg.port));
        berthd_->set("db.main.dbname", pg.database);
        berthd_->set("db.main.user", pg.user);
        berthd_->set("db.main.password", "${system.env.BERTH_PG_PASSWORD}");
        berthd_->set("db.main.connect_timeout_s", "2");
        berthd_->set("db.main.replicas", pg.host + ":" + std::to_string(pg.replicaPort));
        berthd_->set("redis.host", redis.host);
        berthd_->set("redis.port", std::to_string(redis.port));
        berthd_->set("redis.password", "${system.env.BERTH_REDIS_PASSWORD}");
        berthd_->set("redis.db", std::to_string(redis.db));
        berthd_->set("redis.connect_timeout_ms", "300");
        berthd_->set("server.ready_timeout_ms", std::to_string(kReadyTimeoutMs));
        berthd_->set("server.ready_strict", strict ? "true" : "false");
        berthd_->start();
        http_ = std::make_unique<HttpProbe>(berthd_->port(), 10000);
    }

    static std::string status(const HttpResult& r) {
        if (r.status != 200) return "";
        return r.json()->getObject("data")->getValue<std::string>("status");
    }

    // Asks /ready every 100 ms until `done` or `timeoutMs`; returns the last answer. Each answer
    // must come within the timeout (plus scheduling), whatever the servers do.
    HttpResult waitFor(const std::function<bool(const HttpResult&)>& done, int timeoutMs) {
        auto start = Clock::now();
        for (;;) {
            auto asked = Clock::now();
            HttpResult r = http_->get("/ready");
            CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(asked)) + " ms for " + r.describe(),
                                   msSince(asked) < kReadyTimeoutMs + 400);
            if (done(r) || msSince(start) > timeoutMs) return r;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

    std::unique_ptr<BerthdProcess> berthd_;
    std::unique_ptr<HttpProbe> http_;
    std::vector<pid_t> stopped_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReadinessTest);
