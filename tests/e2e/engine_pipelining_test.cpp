// One connection, many requests: pipelining (answers in request order, whether the handler runs
// on the I/O thread or a worker), long keep-alive, HEAD framing and HTTP/1.0 keep-alive.
#include <sys/socket.h>

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <atomic>
#include <chrono>
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

std::string get(const std::string& target, const std::string& id) {
    return "GET " + target + " HTTP/1.1\r\nHost: e2e\r\nX-Request-Id: " + id + "\r\n\r\n";
}

std::string envelope(const std::string& data) {
    return R"({"status":true,"code":0,"message":"ok","data":)" + data + "}";
}

}  // namespace

class EnginePipeliningTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EnginePipeliningTest);
    CPPUNIT_TEST(testHundredPipelinedRequestsAreAnsweredInOrder);
    CPPUNIT_TEST(testHalfClosingClientStillGetsItsAnswers);
    CPPUNIT_TEST(testMixedBlockingAndNonBlockingKeepTheirOrder);
    CPPUNIT_TEST(testThousandsOfPipelinedRequestsAreAllAnswered);
    CPPUNIT_TEST(testHeadAnswersCarryNoBody);
    CPPUNIT_TEST(testThousandSequentialRequestsOnOneConnection);
    CPPUNIT_TEST(testHttp10KeepAliveStaysOpen);
    CPPUNIT_TEST(testHttp10KeepAliveAnswerSaysKeepAlive);
    CPPUNIT_TEST(testHttp10WithoutKeepAliveCloses);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addFixture("slow");
        berthd_->set("server.keep_alive_timeout", "2");
        berthd_->start();
    }
    void tearDown() override { berthd_.reset(); }

    // A client that sends its requests, then half-closes (FIN) with an unfinished one behind
    // them, still gets the answers to the complete ones before berthd closes.
    void testHalfClosingClientStillGetsItsAnswers() {
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(
            c.send("GET /health HTTP/1.1\r\nHost: e2e\r\n\r\nGET /slow/fast HTTP/1.1\r\nHost: e2e\r\n\r\nG"));
        c.shutdownWrite();
        CPPUNIT_ASSERT_MESSAGE("berthd did not close after answering", c.waitForClose(3000));
        const std::string& got = c.pending();
        std::size_t first = got.find("HTTP/1.1 200 OK");
        CPPUNIT_ASSERT_MESSAGE(got, first != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(got, got.find("HTTP/1.1 200 OK", first + 1) != std::string::npos);
    }

    void testHundredPipelinedRequestsAreAnsweredInOrder() {
        std::string requests;
        for (int i = 1; i <= 100; ++i) requests += get("/health", "r" + std::to_string(i));
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(c.send(requests));  // one send()
        for (int i = 1; i <= 100; ++i) {
            HttpResult r = c.readResponse(5000);
            const std::string id = "r" + std::to_string(i);
            CPPUNIT_ASSERT_EQUAL_MESSAGE("answer " + std::to_string(i) + "\n" + r.describe(), id,
                                         r.header("X-Request-Id"));
            E2E_ASSERT_STATUS(200, r);
            CPPUNIT_ASSERT_EQUAL(envelope(R"({"status":"up"})"), r.body);
        }
        CPPUNIT_ASSERT_EQUAL_MESSAGE(c.pending(), std::string(), c.pending());
        CPPUNIT_ASSERT(!c.closedByPeer());
    }

    void testMixedBlockingAndNonBlockingKeepTheirOrder() {
        // Worker, I/O thread, host endpoint, body, refusal: answers leave in request order.
        struct Expected {
            int status;
            std::string body;
        };
        std::string requests;
        std::vector<Expected> expected;
        for (int i = 0; i < 10; ++i) {
            const std::string n = std::to_string(i);
            requests += get("/slow/sleep/10", "m" + n + "a");
            expected.push_back({200, envelope(R"({"slept":10})")});
            requests += get("/slow/fast", "m" + n + "b");
            expected.push_back({200, "fast"});
            std::string body(static_cast<std::size_t>(i * 7 + 1), 'x');
            requests += "POST /slow/count HTTP/1.1\r\nHost: e2e\r\nX-Request-Id: m" + n +
                        "c\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
            expected.push_back({200, std::to_string(body.size())});
            requests += get("/slow/sleep/" + std::to_string(i % 3), "m" + n + "d");
            expected.push_back({200, envelope(R"({"slept":)" + std::to_string(i % 3) + "}")});
            requests += get("/nope", "m" + n + "e");
            expected.push_back({404, ""});
            requests += get("/health", "m" + n + "f");
            expected.push_back({200, envelope(R"({"status":"up"})")});
        }
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(c.send(requests));
        for (std::size_t i = 0; i < expected.size(); ++i) {
            HttpResult r = c.readResponse(5000);
            const std::string id = "m" + std::to_string(i / 6) + static_cast<char>('a' + i % 6);
            const std::string what = "answer " + std::to_string(i) + " (" + id + ")\n" + r.describe();
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what, id, r.header("X-Request-Id"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(what, expected[i].status, r.status);
            if (!expected[i].body.empty()) CPPUNIT_ASSERT_EQUAL_MESSAGE(what, expected[i].body, r.body);
        }
        CPPUNIT_ASSERT(!c.closedByPeer());
    }

    void testThousandsOfPipelinedRequestsAreAllAnswered() {
        // More answers than berthd buffers for one client (1 MiB): it must pause reading while the
        // client catches up, then go on, to the last request. Four rounds: the pause is a race.
        constexpr std::size_t kRequests = 30000;
        std::string requests;
        for (std::size_t i = 0; i < kRequests; ++i) requests += "GET /health HTTP/1.1\r\nHost: e2e\r\n\r\n";
        for (int round = 1; round <= 4; ++round) {
            RawConnection c(berthd_->port());
            // All requests go out before the first answer is read, as from a client busy elsewhere.
            const std::size_t sent = c.sendUntilStalled(requests, 200);
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            std::thread writer([&] { c.send(std::string_view(requests).substr(sent)); });
            const auto start = Clock::now();
            bool closed = false;
            std::size_t answered = countAnswers(c.fd(), "HTTP/1.1 200 OK\r\n", kRequests, 10000, closed);
            const double ms = millisSince(start);
            ::shutdown(c.fd(), SHUT_RDWR);  // ends a send() the server no longer reads
            writer.join();
            CPPUNIT_ASSERT_MESSAGE("round " + std::to_string(round) + ": " + std::to_string(answered) +
                                       " of " + std::to_string(kRequests) +
                                       " pipelined requests answered; after " + std::to_string(ms) +
                                       " ms the server " +
                                       (closed ? "closed the connection" : "still had not answered the rest"),
                                   answered == kRequests);
        }
    }

    void testHeadAnswersCarryNoBody() {
        // HEAD on a host endpoint, on a worker route and on an I/O-thread route, each followed on
        // the same connection by a GET: a body after a HEAD answer would be read as the next answer.
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(c.send("HEAD /health HTTP/1.1\r\nHost: e2e\r\n\r\n" + get("/slow/fast", "g1") +
                              "HEAD /slow/sleep/5 HTTP/1.1\r\nHost: e2e\r\n\r\n" + get("/slow/fast", "g2") +
                              "HEAD /slow/fast HTTP/1.1\r\nHost: e2e\r\n\r\n" + get("/slow/fast", "g3")));
        for (const char* id : {"g1", "g2", "g3"}) {
            HttpResult head = c.readResponse(5000, true);
            E2E_ASSERT_STATUS(200, head);
            CPPUNIT_ASSERT_MESSAGE("HEAD keeps the GET's Content-Length\n" + head.describe(),
                                   std::stoi(head.header("Content-Length")) > 0);
            CPPUNIT_ASSERT_MESSAGE("what follows a HEAD answer must be the next answer: " + c.pending(),
                                   c.pending().empty() || c.pending().compare(0, 9, "HTTP/1.1 ") == 0);
            HttpResult next = c.readResponse(5000);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(next.describe(), std::string(id), next.header("X-Request-Id"));
            CPPUNIT_ASSERT_EQUAL(std::string("fast"), next.body);
        }
        CPPUNIT_ASSERT_EQUAL_MESSAGE(c.pending(), std::string(), c.pending());
    }

    void testThousandSequentialRequestsOnOneConnection() {
        RawConnection c(berthd_->port());
        for (int i = 1; i <= 1000; ++i) {
            const std::string id = "s" + std::to_string(i);
            const std::string target = i % 10 == 0 ? "/slow/sleep/0" : (i % 2 ? "/slow/fast" : "/health");
            CPPUNIT_ASSERT_MESSAGE("request " + id + ": the connection is gone", c.send(get(target, id)));
            HttpResult r = c.readResponse(5000);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), id, r.header("X-Request-Id"));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), 200, r.status);
            CPPUNIT_ASSERT_MESSAGE(r.describe(), !r.has("Connection"));
        }
        CPPUNIT_ASSERT(!c.closedByPeer());
    }

    void testHttp10KeepAliveStaysOpen() {
        RawConnection c(berthd_->port());
        for (int i = 0; i < 3; ++i) {
            CPPUNIT_ASSERT(c.send("GET /slow/fast HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
            HttpResult r = c.readResponse(2000);
            E2E_ASSERT_STATUS(200, r);
            CPPUNIT_ASSERT_EQUAL(std::string("fast"), r.body);
            CPPUNIT_ASSERT_MESSAGE(r.describe(), r.header("Connection") != "close");
        }
        CPPUNIT_ASSERT_MESSAGE("the HTTP/1.0 keep-alive connection was closed", !c.waitForClose(300));
    }

    void testHttp10KeepAliveAnswerSaysKeepAlive() {
        // RFC 9112 9.3: an HTTP/1.0 client keeps the connection only when the answer says
        // "Connection: keep-alive"; without it, it waits for the close that never comes (ab -k).
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(c.send("GET /slow/fast HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        HttpResult r = c.readResponse(2000);
        E2E_ASSERT_STATUS(200, r);
        std::string connection = r.header("Connection");
        for (char& ch : connection) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("keep-alive"), connection);
    }

    void testHttp10WithoutKeepAliveCloses() {
        RawConnection c(berthd_->port());
        CPPUNIT_ASSERT(c.send("GET /slow/sleep/1 HTTP/1.0\r\n\r\n"));
        HttpResult r = c.readResponse(2000);
        E2E_ASSERT_STATUS(200, r);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(r.describe(), std::string("close"), r.header("Connection"));
        CPPUNIT_ASSERT_MESSAGE("the HTTP/1.0 connection stayed open", c.waitForClose(1000));
        CPPUNIT_ASSERT_EQUAL_MESSAGE(c.pending(), std::string(), c.pending());
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(EnginePipeliningTest);

}  // namespace berth::test
