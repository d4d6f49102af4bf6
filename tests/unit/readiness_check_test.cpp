// ReadinessCheck: parts asked in parallel on their own threads, the answer bounded by the timeout
// whatever a part does, a hung part not pinged again while it hangs, the outcome cached and shared
// by concurrent callers, required versus optional parts, and the /ready JSON.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "berth/error.h"
#include "observe/readiness_check.h"

using berth::ApiError;
using berth::Json;
using berth::server::ReadinessCheck;
using Clock = std::chrono::steady_clock;

namespace {

long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

ReadinessCheck::Part part(std::string name, bool required, std::function<std::string(int)> ping) {
    return {std::move(name), required, true, std::move(ping)};
}

// A part that hangs until released (as a stopped server would). Opened on destruction too, so that
// a failing assertion does not leave the check's destructor joining a thread that waits forever.
class Gate {
  public:
    void wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        opened_.wait(lock, [this] { return open_; });
    }
    void open() {
        std::lock_guard<std::mutex> lock(mutex_);
        open_ = true;
        opened_.notify_all();
    }
    struct OpenOnExit {
        Gate& gate;
        ~OpenOnExit() { gate.open(); }
    };

  private:
    std::mutex mutex_;
    std::condition_variable opened_;
    bool open_ = false;
};

}  // namespace

class ReadinessCheckTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ReadinessCheckTest);
    CPPUNIT_TEST(testAllUpIsReady);
    CPPUNIT_TEST(testRequiredFailureIsNotReady);
    CPPUNIT_TEST(testOptionalFailureIsDegraded);
    CPPUNIT_TEST(testPingsRunInParallel);
    CPPUNIT_TEST(testHungPartTimesOutAndIsNotPingedAgain);
    CPPUNIT_TEST(testOutcomeCachedAndShared);
    CPPUNIT_TEST(testNonBlockingPartRunsOnTheCaller);
    CPPUNIT_TEST(testThrowingPartIsAFailure);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testAllUpIsReady() {
        ReadinessCheck check(500, 0);
        check.add(part("db.main", true, [](int) { return ""; }));
        check.add(part("redis", false, [](int) { return ""; }));
        ReadinessCheck::Outcome o = check.check();
        CPPUNIT_ASSERT(o.ready);
        CPPUNIT_ASSERT(!o.degraded);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), o.parts.size());
        CPPUNIT_ASSERT_EQUAL(std::string("db.main"), o.parts[0].first);
        CPPUNIT_ASSERT_EQUAL(std::string("up"), o.parts[0].second);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":"ready","parts":{"db.main":"up","redis":"up"}})"),
                             o.answer().dump());
    }

    void testRequiredFailureIsNotReady() {
        ReadinessCheck check(500, 0);
        check.add(part("plugin.hello", true, [](int) { return ""; }));
        check.add(part("db.main", true, [](int) { return "connection refused"; }));
        check.add(part("redis", false, [](int) { return "unavailable"; }));
        ReadinessCheck::Outcome o = check.check();
        CPPUNIT_ASSERT(!o.ready);
        try {
            o.answer();
            CPPUNIT_FAIL("no ApiError for a database that is down");
        } catch (const ApiError& e) {
            CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
            CPPUNIT_ASSERT_EQUAL(std::string("not ready"), e.message());
            // Every part that is not up, and why; none that is.
            CPPUNIT_ASSERT_EQUAL(std::string(R"({"db.main":"connection refused","redis":"unavailable"})"),
                                 e.error().dump());
        }
    }

    void testOptionalFailureIsDegraded() {
        ReadinessCheck check(500, 0);
        check.add(part("db.main", true, [](int) { return ""; }));
        check.add(part("redis", false, [](int) { return "unavailable: Connection refused"; }));
        ReadinessCheck::Outcome o = check.check();
        CPPUNIT_ASSERT(o.ready);
        CPPUNIT_ASSERT(o.degraded);
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":"degraded","parts":{"db.main":"up","redis":"unavailable: Connection refused"}})"),
            o.answer().dump());
    }

    // Three parts of 150 ms each within a 400 ms timeout: only possible in parallel.
    void testPingsRunInParallel() {
        ReadinessCheck check(400, 0);
        std::atomic<int> pinged{0};
        for (const char* name : {"db.a", "db.b", "db.c"})
            check.add(part(name, true, [&pinged](int) {
                std::this_thread::sleep_for(std::chrono::milliseconds(150));
                ++pinged;
                return "";
            }));
        auto start = Clock::now();
        ReadinessCheck::Outcome o = check.check();
        long long took = msSince(start);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", o.ready);
        CPPUNIT_ASSERT_EQUAL(3, pinged.load());
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took < 400);
    }

    void testHungPartTimesOutAndIsNotPingedAgain() {
        Gate gate;
        std::atomic<int> pinged{0};
        std::atomic<int> givenTimeout{0};
        {
            ReadinessCheck check(200, 0);
            Gate::OpenOnExit release{gate};  // destroyed before `check`
            check.add(part("db.main", true, [&](int timeoutMs) {
                givenTimeout = timeoutMs;
                ++pinged;
                gate.wait();
                return "";
            }));
            check.add(part("redis", false, [](int) { return ""; }));
            for (int round = 0; round < 3; ++round) {
                auto start = Clock::now();
                ReadinessCheck::Outcome o = check.check();
                long long took = msSince(start);
                CPPUNIT_ASSERT(!o.ready);
                CPPUNIT_ASSERT_EQUAL(std::string("timeout after 200 ms"), o.parts[0].second);
                CPPUNIT_ASSERT_EQUAL(std::string("up"), o.parts[1].second);
                CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 190 && took < 700);
            }
            CPPUNIT_ASSERT_EQUAL(1, pinged.load());  // still the first ping: no pile of threads
            CPPUNIT_ASSERT_EQUAL(200, givenTimeout.load());
            gate.open();
            // The next check runs a fresh ping (the hung one answered for an older request).
            for (int i = 0; i < 50 && pinged.load() < 2; ++i) {
                check.check();
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            CPPUNIT_ASSERT_EQUAL(2, pinged.load());
            CPPUNIT_ASSERT(check.check().ready);
        }  // joins the part's thread
    }

    void testOutcomeCachedAndShared() {
        std::atomic<int> pinged{0};
        ReadinessCheck check(500, 60000);
        check.add(part("db.main", true, [&pinged](int) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            ++pinged;
            return "";
        }));
        std::vector<std::thread> probes;
        std::atomic<int> ready{0};
        for (int i = 0; i < 8; ++i)
            probes.emplace_back([&] {
                if (check.check().ready) ++ready;
            });
        for (std::thread& t : probes) t.join();
        for (int i = 0; i < 5; ++i) CPPUNIT_ASSERT(check.check().ready);
        CPPUNIT_ASSERT_EQUAL(8, ready.load());
        CPPUNIT_ASSERT_EQUAL(1, pinged.load());

        std::atomic<int> fresh{0};
        ReadinessCheck uncached(500, 0);
        uncached.add(part("db.main", true, [&fresh](int) {
            ++fresh;
            return "";
        }));
        for (int i = 0; i < 3; ++i) uncached.check();
        CPPUNIT_ASSERT_EQUAL(3, fresh.load());
    }

    void testNonBlockingPartRunsOnTheCaller() {
        std::thread::id ranOn;
        ReadinessCheck check(500, 0);
        check.add({"plugin.hello", true, false, [&ranOn](int) {
                       ranOn = std::this_thread::get_id();
                       return std::string();
                   }});
        CPPUNIT_ASSERT(check.check().ready);
        CPPUNIT_ASSERT(ranOn == std::this_thread::get_id());
    }

    void testThrowingPartIsAFailure() {
        ReadinessCheck check(500, 0);
        check.add(part("db.main", true, [](int) -> std::string { throw std::runtime_error("boom"); }));
        ReadinessCheck::Outcome o = check.check();
        CPPUNIT_ASSERT(!o.ready);
        CPPUNIT_ASSERT_EQUAL(std::string("boom"), o.parts[0].second);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReadinessCheckTest);
