// Clients that try to tie berthd up: slowloris (headers a byte at a time), a client that keeps
// sending after its 408, and one that pipelines thousands of requests and never reads an answer.
// An idle or slow client may cost a descriptor and a buffer, never the service of the others.
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
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

// Threads of a process, from /proc/<pid>/task.
int threadCount(pid_t pid) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
        (void)entry;
        ++count;
    }
    return count;
}

using Clock = std::chrono::steady_clock;

/// GET target on a fresh connection; the time from connect to the whole answer.
double timedGet(int port, const std::string& target, int expectedStatus = 200) {
    const auto start = Clock::now();
    RawConnection c(port);
    c.send("GET " + target + " HTTP/1.1\r\nHost: e2e\r\n\r\n");
    HttpResult r = c.readResponse(5000);
    double ms = millisSince(start);
    E2E_ASSERT_STATUS(expectedStatus, r);
    return ms;
}

/// A request head that takes minutes at a byte every 100 ms.
std::string endlessHead() {
    return "GET /health HTTP/1.1\r\nHost: e2e\r\nX-Slow: " + std::string(4000, 'a');
}

/// Sends one more byte of `head` on every connection every `intervalMs`, until stopped.
class Trickler {
  public:
    Trickler(std::vector<std::unique_ptr<RawConnection>>& connections, int intervalMs)
        : connections_(connections), intervalMs_(intervalMs), failed_(connections.size()) {
        for (auto& flag : failed_) flag = false;
        thread_ = std::thread([this] { run(); });
    }
    ~Trickler() { stop(); }
    void stop() {
        stopping_ = true;
        if (thread_.joinable()) thread_.join();
    }
    /// True once a send on connection `i` failed: the server closed it for good.
    bool failed(std::size_t i) const { return failed_[i]; }

  private:
    void run() {
        const std::string head = endlessHead();
        for (std::size_t at = 0; !stopping_ && at < head.size(); ++at) {
            for (std::size_t i = 0; i < connections_.size(); ++i) {
                if (failed_[i]) continue;
                if (::send(connections_[i]->fd(), head.data() + at, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
                    failed_[i] = true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(intervalMs_));
        }
    }

    std::vector<std::unique_ptr<RawConnection>>& connections_;
    int intervalMs_;
    std::vector<std::atomic<bool>> failed_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

/// The largest VmRSS of a process, sampled every 20 ms until stop().
class RssSampler {
  public:
    explicit RssSampler(pid_t pid) : pid_(pid), max_(residentKb(pid)) {
        thread_ = std::thread([this] {
            while (!stopping_) {
                max_ = std::max(max_.load(), residentKb(pid_));
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
    }
    ~RssSampler() { stop(); }
    long stop() {
        stopping_ = true;
        if (thread_.joinable()) thread_.join();
        return max_;
    }

  private:
    pid_t pid_;
    std::atomic<long> max_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace

class EngineAbuseTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EngineAbuseTest);
    CPPUNIT_TEST(testSlowlorisDoesNotDelayOthersAndIs408);
    CPPUNIT_TEST(testClientStillSendingAfter408IsReleased);
    CPPUNIT_TEST(testClientThatNeverReadsIsBoundedAndClosed);
    CPPUNIT_TEST(testPipelineFloodDoesNotStallOthers);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        berthd_ = std::make_unique<BerthdProcess>();
        berthd_->addFixture("slow");
        berthd_->set("http.header_timeout", "1");
        berthd_->set("server.keep_alive_timeout", "2");
    }
    void tearDown() override { berthd_.reset(); }

    void testSlowlorisDoesNotDelayOthersAndIs408() {
        constexpr int kClients = 300;
        berthd_->start();
        const int port = berthd_->port();
        const int threadsBefore = threadCount(berthd_->pid());
        std::vector<std::unique_ptr<RawConnection>> slow;
        for (int i = 0; i < kClients; ++i) slow.push_back(std::make_unique<RawConnection>(port));
        const auto start = Clock::now();
        Trickler trickler(slow, 100);

        // Before the header timeout: the others are served at once.
        double worst = 0;
        while (millisSince(start) < 800) {
            worst = std::max(worst, timedGet(port, "/slow/fast"));
            worst = std::max(worst, timedGet(port, "/health"));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        E2E_ASSERT_AT_MOST_MS(worst, 100, "the slowest request during the slowloris");
        // Slow clients cost descriptors, not threads: berthd has no more threads than before them.
        CPPUNIT_ASSERT_MESSAGE("berthd has " + std::to_string(threadCount(berthd_->pid())) + " threads, " +
                                   std::to_string(threadsBefore) + " before the slow clients",
                               threadCount(berthd_->pid()) <= threadsBefore);

        // After http.header_timeout (1 s; the sweep makes it 1-2 s) every slow client got its 408.
        for (int i = 0; i < kClients; ++i) {
            const std::string which = "slow client " + std::to_string(i);
            const int left = std::max(100, 4000 - static_cast<int>(millisSince(start)));
            HttpResult r;
            try {
                r = slow[i]->readResponse(left);
            } catch (const std::exception& e) {
                CPPUNIT_FAIL(which + " got no 408 within 4 s: " + e.what());
            }
            E2E_ASSERT_ENVELOPE_MSG(408, r, which);
            CPPUNIT_ASSERT_MESSAGE(which + ": no close after the 408", slow[i]->waitForClose(1000));
        }
        trickler.stop();
        E2E_ASSERT_HEALTHY(port);
    }

    void testClientStillSendingAfter408IsReleased() {
        // A slowloris client that ignores its 408 and keeps sending must not keep its connection
        // (and its server.max_connections slot) forever.
        constexpr int kClients = 5;
        constexpr double kWithinMs = 6000;  // header timeout (1-2 s) + a graceful close's grace
        berthd_->start();
        const int port = berthd_->port();
        const int threadsBefore = threadCount(berthd_->pid());
        std::vector<std::unique_ptr<RawConnection>> slow;
        for (int i = 0; i < kClients; ++i) slow.push_back(std::make_unique<RawConnection>(port));
        const auto start = Clock::now();
        Trickler trickler(slow, 100);
        for (int i = 0; i < kClients; ++i) {
            E2E_ASSERT_ENVELOPE(408, slow[i]->readResponse(4000));
            CPPUNIT_ASSERT(slow[i]->waitForClose(1000));  // the server's FIN
        }
        const double answeredMs = millisSince(start);
        // The server's FIN came; it still reads what the client sends. Then it must let go: the
        // trickled bytes meet a reset, and the socket leaves CLOSE_WAIT.
        auto released = [&](int i) {
            return trickler.failed(i) || slow[i]->tcpState() == TCP_CLOSE || slow[i]->serverReleased();
        };
        int open = kClients;
        while (open > 0 && millisSince(start) < kWithinMs) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            open = 0;
            for (int i = 0; i < kClients; ++i) open += released(i) ? 0 : 1;
        }
        trickler.stop();
        CPPUNIT_ASSERT_MESSAGE(
            std::to_string(open) + " of " + std::to_string(kClients) + " connections still held by berthd " +
                std::to_string(millisSince(start)) + " ms after they started (answered 408 after " +
                std::to_string(answeredMs) + " ms) while their clients kept sending a byte every 100 ms",
            open == 0);
        E2E_ASSERT_HEALTHY(port);
    }

    void testClientThatNeverReadsIsBoundedAndClosed() {
        constexpr int kRequests = 20000;
        constexpr long kMaxRssKb = 64 * 1024;
        // One I/O thread: the stuck client and the others share it.
        berthd_->set("server.io_threads", "1");
        berthd_->start();
        const int port = berthd_->port();
        const long rssBefore = residentKb(berthd_->pid());
        CPPUNIT_ASSERT(rssBefore > 0);

        std::string requests;
        for (int i = 0; i < kRequests; ++i) requests += "GET /plugins HTTP/1.1\r\nHost: e2e\r\n\r\n";
        RawConnection stuck(port, 4096);
        const auto start = Clock::now();
        RssSampler rss(berthd_->pid());
        const std::size_t sent = stuck.sendUntilStalled(requests, 500);
        const auto stalled = Clock::now();
        const std::string sentText = std::to_string(sent) + " of " + std::to_string(requests.size()) +
                                     " bytes sent in " + std::to_string(millisSince(start)) + " ms";

        // berthd answers until this client's output backs up, then stops reading from it. (How long
        // that first burst holds the I/O thread is testPipelineFloodDoesNotStallOthers' business.)
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        double worst = 0;
        for (int i = 0; i < 5; ++i) {
            worst = std::max(worst, timedGet(port, "/health"));
            worst = std::max(worst, timedGet(port, "/slow/fast"));
        }
        E2E_ASSERT_AT_MOST_MS(worst, 100,
                              "the slowest request next to a client that never reads (" + sentText + ")");

        // server.keep_alive_timeout (2 s) after the last progress, the stuck connection is closed.
        bool closed = false;
        while (!closed && millisSince(stalled) < 5000) {
            // The FIN may wait behind answers the client never read: look at berthd's end too.
            closed = stuck.tcpState() != TCP_ESTABLISHED || stuck.serverReleased();
            if (!closed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const long rssMax = rss.stop();
        CPPUNIT_ASSERT_MESSAGE(
            "the connection that never reads was not closed within 5 s of its last progress (" + sentText +
                ")",
            closed);
        CPPUNIT_ASSERT_MESSAGE("berthd's VmRSS grew from " + std::to_string(rssBefore) + " KiB to " +
                                   std::to_string(rssMax) + " KiB (" + sentText + ")",
                               rssMax < kMaxRssKb);
        E2E_ASSERT_HEALTHY(port);
    }

    void testPipelineFloodDoesNotStallOthers() {
        // A client pipelines 3.5 MB of small requests, then reads the answers. It shares the only
        // I/O thread with everyone else, who must still be answered promptly: berthd may buffer a
        // lot of this client's input, but working through it must not hold the thread for long.
        // Whether berthd ends up with much of it buffered at once depends on the scheduling:
        // three rounds.
        constexpr std::size_t kRequests = 100000;
        berthd_->set("server.io_threads", "1");
        berthd_->start();
        const int port = berthd_->port();
        std::string requests;
        for (std::size_t i = 0; i < kRequests; ++i) requests += "GET /health HTTP/1.1\r\nHost: e2e\r\n\r\n";

        for (int round = 1; round <= 3; ++round) {
            RawConnection flood(port);
            // Everything goes out before the first answer is read: berthd answers until its
            // output for this client backs up, and the rest waits in the socket buffers.
            const std::size_t sent = flood.sendUntilStalled(requests, 300);
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            const auto start = Clock::now();
            std::atomic<bool> done{false};
            std::size_t answered = 0;
            bool closed = false;
            std::thread reader([&] {
                answered = countAnswers(flood.fd(), "HTTP/1.1 200 OK\r\n", kRequests, 4000, closed);
                done = true;
            });
            std::thread writer([&] { flood.send(std::string_view(requests).substr(sent)); });
            double worst = 0;
            int samples = 0;
            while (!done && millisSince(start) < 3000) {
                worst = std::max(worst, timedGet(port, "/health"));
                ++samples;
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            ::shutdown(flood.fd(), SHUT_RDWR);  // ends the writer if berthd stopped reading
            writer.join();
            reader.join();
            E2E_ASSERT_AT_MOST_MS(worst, 100,
                                  "round " + std::to_string(round) + ": the slowest of " +
                                      std::to_string(samples) + " requests next to a client pipelining " +
                                      std::to_string(kRequests) + " (" + std::to_string(answered) +
                                      " answered in " + std::to_string(millisSince(start)) + " ms)");
        }
        E2E_ASSERT_HEALTHY(port);
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(EngineAbuseTest);

}  // namespace berth::test
