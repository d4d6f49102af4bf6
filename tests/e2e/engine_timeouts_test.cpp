// The engine's clocks, against berthd as a process: http.header_timeout, http.body_timeout,
// server.keep_alive_timeout and http.handler_timeout, each set to 1 s. berthd checks them in a
// sweep about once a second, so a 1 s timeout fires between 1 and about 2 s.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "engine_checks.h"
#include "http_probe.h"
#include "raw_connection.h"

namespace berth::test {
namespace {

using Clock = std::chrono::steady_clock;

// Not before the timeout; and by the timeout, plus a sweep interval, plus slack for a busy CI.
constexpr double kEarliestMs = 950;
constexpr double kLatestMs = 3000;

}  // namespace

class EngineTimeoutsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EngineTimeoutsTest);
    CPPUNIT_TEST(testHeadersThatStopArrivingAre408);
    CPPUNIT_TEST(testBodyThatStopsArrivingIs408);
    CPPUNIT_TEST(testIdleKeepAliveConnectionIsClosed);
    CPPUNIT_TEST(testSlowHandlerIs504AndHostKeepsServing);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addFixture("slow");
        berthd_->set("http.header_timeout", "1");
        berthd_->set("http.body_timeout", "1");
        berthd_->set("server.keep_alive_timeout", "1");
        berthd_->set("http.handler_timeout", "1");
        berthd_->start();
    }
    void tearDown() override { berthd_.reset(); }

    void testHeadersThatStopArrivingAre408() {
        RawConnection c(berthd_->port());
        const auto start = Clock::now();
        CPPUNIT_ASSERT(c.send("GET /slow/fast HTTP/1.1\r\nHost: e2e\r\nX-Request-Id: stalled-head\r\nX-Pa"));
        HttpResult r = c.readResponse(5000);
        const double elapsed = millisSince(start);
        E2E_ASSERT_ENVELOPE(408, r);
        E2E_ASSERT_AT_LEAST_MS(elapsed, kEarliestMs, "the 408 for stalled headers");
        E2E_ASSERT_AT_MOST_MS(elapsed, kLatestMs, "the 408 for stalled headers");
        CPPUNIT_ASSERT_MESSAGE("the connection stayed open after the 408", c.waitForClose(1000));
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testBodyThatStopsArrivingIs408() {
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(c.send("POST /slow/count HTTP/1.1\r\nHost: e2e\r\nContent-Length: 10\r\n\r\n123"));
        const auto start = Clock::now();
        HttpResult r = c.readResponse(5000);
        const double elapsed = millisSince(start);
        E2E_ASSERT_ENVELOPE(408, r);
        E2E_ASSERT_AT_LEAST_MS(elapsed, kEarliestMs, "the 408 for a stalled body");
        E2E_ASSERT_AT_MOST_MS(elapsed, kLatestMs, "the 408 for a stalled body");
        CPPUNIT_ASSERT_MESSAGE("the connection stayed open after the 408", c.waitForClose(1000));
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testIdleKeepAliveConnectionIsClosed() {
        // One connection after an answered request, one that never sent anything: both idle.
        RawConnection used(berthd_->port());
        RawConnection silent(berthd_->port());
        CPPUNIT_ASSERT(used.send("GET /slow/fast HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        HttpResult r = used.readResponse();
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.has("Connection"));  // kept alive
        const auto start = Clock::now();
        CPPUNIT_ASSERT_MESSAGE("the idle keep-alive connection was not closed",
                               used.waitForClose(static_cast<int>(kLatestMs)));
        const double elapsed = millisSince(start);
        E2E_ASSERT_AT_LEAST_MS(elapsed, kEarliestMs, "closing an idle keep-alive connection");
        // Closed silently: recv() returned 0 with nothing before it.
        CPPUNIT_ASSERT_EQUAL_MESSAGE(used.pending(), std::string(), used.pending());
        CPPUNIT_ASSERT_MESSAGE("a connection that never sent a byte was not closed",
                               silent.waitForClose(1000));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(silent.pending(), std::string(), silent.pending());
        E2E_ASSERT_HEALTHY(berthd_->port());
    }

    void testSlowHandlerIs504AndHostKeepsServing() {
        constexpr int kSleepMs = 2500;
        RawConnection c(berthd_->port());
        const auto start = Clock::now();
        CPPUNIT_ASSERT(c.send("GET /slow/sleep/" + std::to_string(kSleepMs) +
                              " HTTP/1.1\r\nHost: e2e\r\nX-Request-Id: slow-504\r\n\r\n"));
        HttpResult r = c.readResponse(5000);
        const double elapsed = millisSince(start);
        E2E_ASSERT_ENVELOPE(504, r);
        E2E_ASSERT_AT_LEAST_MS(elapsed, kEarliestMs, "the 504");
        E2E_ASSERT_AT_MOST_MS(elapsed, kSleepMs - 100, "the 504 (it must come before the handler ends)");
        CPPUNIT_ASSERT_MESSAGE("the connection stayed open after the 504", c.waitForClose(1000));

        // The worker is still sleeping: berthd answers others meanwhile.
        E2E_ASSERT_HEALTHY(berthd_->port());
        // Once the handler returns (into a connection already answered), berthd goes on.
        std::this_thread::sleep_until(start + std::chrono::milliseconds(kSleepMs + 300));
        E2E_ASSERT_HEALTHY(berthd_->port());
        HttpResult after = HttpProbe(berthd_->port()).get("/slow/sleep/10");
        E2E_ASSERT_STATUS(200, after);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":{"slept":10}})"),
                             after.body);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(berthd_->log(), 0, berthd_->stop());

        // Like every refusal, the 504 names the client's request id, so it can be found in logs.
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("slow-504"), r.header("X-Request-Id"));
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(EngineTimeoutsTest);

}  // namespace berth::test
