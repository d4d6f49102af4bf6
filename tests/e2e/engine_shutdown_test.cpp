// Graceful shutdown on SIGTERM: in-flight requests finish, idle connections close at once, new
// connections are refused, and server.shutdown_timeout bounds how long it all takes.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "engine_checks.h"
#include "http_probe.h"
#include "raw_connection.h"

namespace berth::test {
namespace {

using Clock = std::chrono::steady_clock;

struct Stopped {
    int status = -1;
    double ms = 0;  // from SIGTERM to the exit
};

/// SIGTERM (BerthdProcess::stop) on another thread; its exit status and how long it took.
std::future<Stopped> stopAsync(BerthdProcess& berthd) {
    return std::async(std::launch::async, [&berthd] {
        const auto start = Clock::now();
        Stopped stopped;
        stopped.status = berthd.stop();
        stopped.ms = millisSince(start);
        return stopped;
    });
}

}  // namespace

class EngineShutdownTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EngineShutdownTest);
    CPPUNIT_TEST(testInFlightRequestFinishesAndBerthdExits0);
    CPPUNIT_TEST(testLastAnswerWhileDrainingAnnouncesAndMakesTheClose);
    CPPUNIT_TEST(testNewConnectionsAreRefusedWhileDraining);
    CPPUNIT_TEST(testShutdownTimeoutBoundsAHandlerThatDoesNotFinish);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addFixture("slow");
    }
    void tearDown() override { berthd_.reset(); }

    void testInFlightRequestFinishesAndBerthdExits0() {
        berthd_->set("server.shutdown_timeout", "3");
        berthd_->start();
        RawConnection idle(berthd_->port());
        CPPUNIT_ASSERT(idle.send("GET /health HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        E2E_ASSERT_STATUS(200, idle.readResponse());

        RawConnection busy(berthd_->port());
        CPPUNIT_ASSERT(busy.send("GET /slow/sleep/800 HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::future<Stopped> stopped = stopAsync(*berthd_);

        // The idle keep-alive connection is closed at once, without an answer.
        CPPUNIT_ASSERT_MESSAGE("the idle connection was not closed on SIGTERM", idle.waitForClose(500));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(idle.pending(), std::string(), idle.pending());

        HttpResult r = busy.readResponse(5000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":{"slept":800}})"),
                             r.body);
        CPPUNIT_ASSERT_MESSAGE("the connection of the last request stayed open", busy.waitForClose(3000));
        busy.close();  // as a client does on EOF
        Stopped result = stopped.get();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(berthd_->log(), 0, result.status);
        E2E_ASSERT_AT_MOST_MS(result.ms, 3000, "berthd's exit after SIGTERM (shutdown_timeout 3 s)");
    }

    void testLastAnswerWhileDrainingAnnouncesAndMakesTheClose() {
        berthd_->set("server.shutdown_timeout", "3");
        berthd_->start();
        RawConnection busy(berthd_->port());
        CPPUNIT_ASSERT(busy.send("GET /slow/sleep/300 HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::future<Stopped> stopped = stopAsync(*berthd_);
        HttpResult r = busy.readResponse(5000);
        const auto answered = Clock::now();
        E2E_ASSERT_STATUS(200, r);
        // Nothing else to wait for: the connection closes and berthd exits right after the answer.
        CPPUNIT_ASSERT_MESSAGE("the connection of the last request stayed open", busy.waitForClose(3000));
        const double closedMs = millisSince(answered);
        busy.close();
        Stopped result = stopped.get();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(berthd_->log(), 0, result.status);
        // RFC 9112 9.6: an answer after which the server closes says so, or the client may send
        // its next request into a connection that is about to close.
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("close"), r.header("Connection"));
        E2E_ASSERT_AT_MOST_MS(closedMs, 300, "closing the connection after the last answer while draining");
    }

    void testNewConnectionsAreRefusedWhileDraining() {
        berthd_->set("server.shutdown_timeout", "5");
        berthd_->start();
        const int port = berthd_->port();
        RawConnection busy(port);
        CPPUNIT_ASSERT(busy.send("GET /slow/sleep/1000 HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::future<Stopped> stopped = stopAsync(*berthd_);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));

        // While the request above still runs, a new client is told no at once: the connect is
        // refused, or the connection is closed right away. It is never served, nor left waiting.
        std::string outcome;
        bool refused = false;
        const auto attempt = Clock::now();
        try {
            RawConnection late(port);
            late.send("GET /health HTTP/1.1\r\nHost: e2e\r\n\r\n");
            const bool closed = late.waitForClose(300);
            outcome = closed ? "connected, then closed after " + std::to_string(millisSince(attempt)) +
                                   " ms; received: " + late.pending()
                             : "connected, and still waiting after 300 ms; received: " + late.pending();
            refused = closed && late.pending().empty();
        } catch (const std::system_error& e) {
            outcome = e.what();
            refused = e.code().value() == ECONNREFUSED;
        }

        HttpResult r = busy.readResponse(5000);
        E2E_ASSERT_STATUS(200, r);
        busy.waitForClose(2000);
        busy.close();
        Stopped result = stopped.get();
        CPPUNIT_ASSERT_EQUAL_MESSAGE(berthd_->log(), 0, result.status);
        CPPUNIT_ASSERT_MESSAGE("a connection made 200 ms after SIGTERM: " + outcome, refused);
    }

    void testShutdownTimeoutBoundsAHandlerThatDoesNotFinish() {
        // server.shutdown_timeout = 1 and a handler that needs 5 s: berthd closes the
        // connection and exits after about a second; it neither waits 5 s nor needs SIGKILL.
        berthd_->set("server.shutdown_timeout", "1");
        berthd_->start();
        RawConnection busy(berthd_->port());
        CPPUNIT_ASSERT(busy.send("GET /slow/sleep/5000 HTTP/1.1\r\nHost: e2e\r\n\r\n"));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto term = Clock::now();
        std::future<Stopped> stopped = stopAsync(*berthd_);

        const bool closed = busy.waitForClose(4000);
        const double closedMs = millisSince(term);
        Stopped result = stopped.get();
        CPPUNIT_ASSERT_MESSAGE(
            "berthd was killed or crashed: status " + std::to_string(result.status) + "\n" + berthd_->log(),
            result.status >= 0 && result.status < 128);
        CPPUNIT_ASSERT_MESSAGE("the in-flight request was answered 200 although it cannot have finished",
                               busy.pending().find("HTTP/1.1 200") == std::string::npos);
        const std::string timing = "after SIGTERM, the in-flight connection was " +
                                   (closed ? "closed after " + std::to_string(closedMs) + " ms"
                                           : std::string("still open after 4000 ms")) +
                                   "; berthd exited after " + std::to_string(result.ms) + " ms";
        CPPUNIT_ASSERT_MESSAGE(timing, closed && closedMs <= 3000);
        E2E_ASSERT_AT_MOST_MS(result.ms, 3000, "berthd's exit after SIGTERM (shutdown_timeout 1 s)");
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(EngineShutdownTest);

}  // namespace berth::test
