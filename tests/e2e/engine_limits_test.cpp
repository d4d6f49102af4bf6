// What berthd does when it is full: server.worker_threads/server.max_queued (a full worker
// queue is answered 503 at once, and routes that never block are still served by the I/O
// threads) and server.max_connections (one connection too many gets 503 and is closed).
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "engine_checks.h"
#include "http_probe.h"
#include "raw_connection.h"

namespace berth::test {
namespace {

using Clock = std::chrono::steady_clock;

struct Timed {
    HttpResult result;
    double ms = 0;
};

/// One request on a fresh raw connection, timed from connect to the whole answer.
Timed timedGet(int port, const std::string& target) {
    const auto start = Clock::now();
    RawConnection c(port);
    c.send("GET " + target + " HTTP/1.1\r\nHost: e2e\r\n\r\n");
    Timed timed;
    timed.result = c.readResponse(5000);
    timed.ms = millisSince(start);
    return timed;
}

}  // namespace

class EngineLimitsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EngineLimitsTest);
    CPPUNIT_TEST(testFullWorkerQueueIs503AtOnce);
    CPPUNIT_TEST(testConnectionOverMaxConnectionsIs503AndClosed);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addFixture("slow");
    }
    void tearDown() override { berthd_.reset(); }

    void testFullWorkerQueueIs503AtOnce() {
        constexpr int kSleepMs = 500;
        constexpr int kRequests = 6;
        berthd_->set("server.worker_threads", "1");
        berthd_->set("server.max_queued", "1");
        berthd_->start();
        const int port = berthd_->port();

        // Connected first, so that the six requests go out together.
        std::vector<std::unique_ptr<RawConnection>> connections;
        for (int i = 0; i < kRequests; ++i) connections.push_back(std::make_unique<RawConnection>(port));
        const auto start = Clock::now();
        std::vector<std::future<Timed>> answers;
        for (int i = 0; i < kRequests; ++i) {
            RawConnection* c = connections[i].get();
            answers.push_back(std::async(std::launch::async, [c, start, i] {
                c->send("GET /slow/sleep/" + std::to_string(kSleepMs) +
                        " HTTP/1.1\r\nHost: e2e\r\nX-Request-Id: q" + std::to_string(i) + "\r\n\r\n");
                Timed timed;
                timed.result = c->readResponse(10000);
                timed.ms = millisSince(start);
                return timed;
            }));
        }

        // While the only worker sleeps (and one request waits for it), the I/O threads still answer.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        for (const char* target : {"/slow/fast", "/health", "/slow/fast", "/health"}) {
            Timed fast = timedGet(port, target);
            E2E_ASSERT_STATUS(200, fast.result);
            E2E_ASSERT_AT_MOST_MS(fast.ms, 100, std::string("GET ") + target + " while the workers are busy");
        }
        // Routing failures are answered on the I/O thread too.
        for (const char* target : {"/no/such/route", "/slow/no-such-route"}) {
            Timed missing = timedGet(port, target);
            E2E_ASSERT_STATUS(404, missing.result);
            E2E_ASSERT_AT_MOST_MS(missing.ms, 100,
                                  std::string("GET ") + target + " while the workers are busy");
        }

        int ok = 0, busy = 0;
        for (int i = 0; i < kRequests; ++i) {
            Timed timed = answers[i].get();
            const HttpResult& r = timed.result;
            const std::string what =
                "request q" + std::to_string(i) + " after " + std::to_string(timed.ms) + " ms";
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what + "\n" + r.describe(), "q" + std::to_string(i),
                                         r.header("X-Request-Id"));
            if (r.status == 503) {
                ++busy;
                E2E_ASSERT_ENVELOPE_MSG(503, r, what);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(what, std::string("server busy"),
                                             r.json()->getValue<std::string>("message"));
                E2E_ASSERT_AT_MOST_MS(timed.ms, kSleepMs / 2, "the 503 for a full worker queue");
            } else {
                ++ok;
                E2E_ASSERT_STATUS(200, r);
                CPPUNIT_ASSERT_EQUAL_MESSAGE(
                    what, std::string(R"({"status":true,"code":0,"message":"ok","data":{"slept":500}})"),
                    r.body);
                E2E_ASSERT_AT_LEAST_MS(timed.ms, kSleepMs - 20, "a request that slept");
            }
        }
        // One runs, one waits in the queue, the rest are refused.
        CPPUNIT_ASSERT_MESSAGE("503s: " + std::to_string(busy), busy >= 1);
        CPPUNIT_ASSERT_MESSAGE("200s: " + std::to_string(ok), ok >= 2);

        // A 503 leaves the connection usable, and the pool serves again once it is free.
        for (auto& c : connections) {
            CPPUNIT_ASSERT(c->send("GET /slow/sleep/1 HTTP/1.1\r\nHost: e2e\r\n\r\n"));
            E2E_ASSERT_STATUS(200, c->readResponse());
        }
    }

    void testConnectionOverMaxConnectionsIs503AndClosed() {
        constexpr int kMax = 20;
        berthd_->set("server.max_connections", std::to_string(kMax));
        berthd_->start();
        const int port = berthd_->port();
        // Let the connection of start()'s health check go.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));

        const std::string request = "GET /health HTTP/1.1\r\nHost: e2e\r\n\r\n";
        std::vector<std::unique_ptr<RawConnection>> open;
        for (int i = 0; i < kMax; ++i) {
            open.push_back(std::make_unique<RawConnection>(port));
            CPPUNIT_ASSERT(open.back()->send(request));
            HttpResult r = open.back()->readResponse();
            CPPUNIT_ASSERT_EQUAL_MESSAGE("connection " + std::to_string(i + 1) + "\n" + r.describe(), 200,
                                         r.status);
        }

        // The refusal: a 503 and the close, with nothing after the answer's Content-Length.
        auto refused = [&](const std::string& which) {
            RawConnection extra(port);
            HttpResult r = extra.readResponse(2000);
            E2E_ASSERT_STATUS(503, r);
            CPPUNIT_ASSERT_MESSAGE(which + ": the refused connection stayed open", extra.waitForClose(1000));
            CPPUNIT_ASSERT_MESSAGE(which + ": " + std::to_string(extra.pending().size()) +
                                       " bytes after the 503's Content-Length: " + extra.pending(),
                                   extra.pending().empty());
            return r;
        };
        HttpResult first = refused("connection " + std::to_string(kMax + 1));
        // The open ones are not disturbed.
        CPPUNIT_ASSERT(open.front()->send(request));
        E2E_ASSERT_STATUS(200, open.front()->readResponse());

        // Closing some makes room again, for exactly that many.
        for (int i = 0; i < 5; ++i) open.pop_back();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        for (int i = 0; i < 5; ++i) {
            open.push_back(std::make_unique<RawConnection>(port));
            CPPUNIT_ASSERT(open.back()->send(request));
            HttpResult r = open.back()->readResponse();
            CPPUNIT_ASSERT_EQUAL_MESSAGE("a new connection after closing five\n" + r.describe(), 200,
                                         r.status);
        }
        refused("one connection too many again");

        // Like every other refusal, a JSON error envelope, its length as announced.
        E2E_ASSERT_ENVELOPE(503, first);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(first.describe(), std::string("server busy"),
                                     first.json()->getValue<std::string>("message"));
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(EngineLimitsTest);

}  // namespace berth::test
