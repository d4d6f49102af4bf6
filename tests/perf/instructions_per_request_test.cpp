// The engine issue's cost budget as a test: the bench plugin's routes through the whole chain
// (request id, CORS on, envelope, access log on, metrics) must stay within their user-space
// instructions per request, counted by callgrind. And the observability issue's: /bench/json with
// tracing at 100% sampling and the access log on costs at most 15% more than with both off. Instruction
// counts do not move with machine load, so this is not a timed test and runs by default (label "perf").
//
// Method (as bench/run): berthd under `valgrind --tool=callgrind`, 1,000 and then 3,000
// keep-alive GETs over 4 connections one at a time, (I3000 - I1000) / 2000 so that start-up
// and shutdown cancel out.
#include <Poco/File.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "berthd_process.h"

namespace berth::test {
namespace {

constexpr long kJsonBudget = 12000;
constexpr long kPlaintextBudget = 9000;
// Issue 6: /bench/json with tracing at 100% and the access log on costs at most 15% more than
// with both off. Measured 1.10-1.14 (one access log pass writes each record's line and span).
constexpr double kTracingRatioBudget = 1.15;

using Settings = std::vector<std::pair<std::string, std::string>>;

// What one berthd run under callgrind left: its instruction total and the spans it wrote.
struct Measured {
    long instructions = 0;
    std::size_t spanLines = 0;
};

// Reads one response (headers, then Content-Length bytes); false when the connection broke.
bool readResponse(Poco::Net::StreamSocket& socket, std::string& pending, int& status) {
    char buffer[16384];
    std::size_t headEnd;
    while ((headEnd = pending.find("\r\n\r\n")) == std::string::npos) {
        int n = socket.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) return false;
        pending.append(buffer, static_cast<std::size_t>(n));
    }
    status = std::stoi(pending.substr(9, 3));
    std::size_t length = 0;
    std::size_t at = pending.find("Content-Length: ");
    if (at != std::string::npos && at < headEnd) length = std::stoul(pending.substr(at + 16));
    std::size_t total = headEnd + 4 + length;
    while (pending.size() < total) {
        int n = socket.receiveBytes(buffer, sizeof buffer);
        if (n <= 0) return false;
        pending.append(buffer, static_cast<std::size_t>(n));
    }
    pending.erase(0, total);
    return true;
}

// The request shape of ../shared/measure: Host, User-Agent, Accept.
int sendRequests(int port, const std::string& path, int count) {
    const std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n";
    std::vector<Poco::Net::StreamSocket> sockets;
    std::vector<std::string> pending(4);
    for (int i = 0; i < 4; ++i) sockets.emplace_back(Poco::Net::SocketAddress("127.0.0.1", port));
    int ok = 0;
    for (int i = 0; i < count; ++i) {
        Poco::Net::StreamSocket& socket = sockets[i % 4];
        socket.sendBytes(request.data(), static_cast<int>(request.size()));
        int status = 0;
        if (!readResponse(socket, pending[i % 4], status)) break;
        if (status == 200) ++ok;
    }
    return ok;
}

long collectedInstructions(const std::string& valgrindLog) {
    std::smatch match;
    std::string text = readFile(valgrindLog);
    if (!std::regex_search(text, match, std::regex("Collected : ([0-9]+)"))) return -1;
    return std::stol(match[1]);
}

}  // namespace

class InstructionsPerRequestTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(InstructionsPerRequestTest);
    CPPUNIT_TEST(testJsonWithinBudget);
    CPPUNIT_TEST(testPlaintextWithinBudget);
    CPPUNIT_TEST(testTracingCostWithinBudget);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testJsonWithinBudget() { checkBudget("/bench/json", kJsonBudget); }
    void testPlaintextWithinBudget() { checkBudget("/bench/plaintext", kPlaintextBudget); }

    // Tracing every request (spans to a file) with the access log on, against both off.
    void testTracingCostWithinBudget() {
        const Settings off = {{"http.access_log", "false"}};
        const Settings traced = {{"http.access_log", "true"},
                                 {"tracing.enabled", "true"},
                                 {"tracing.sample_rate", "1"},
                                 {"tracing.file", "spans.jsonl"}};
        long plain = perRequest("/bench/json", off);
        Measured few = run("/bench/json", 1000, traced), many = run("/bench/json", 3000, traced);
        // Every request reached the file (and the probe that waited for berthd to come up).
        CPPUNIT_ASSERT_MESSAGE("spans written: " + std::to_string(many.spanLines), many.spanLines >= 3000);
        long tracedPerRequest = (many.instructions - few.instructions) / 2000;
        double ratio = static_cast<double>(tracedPerRequest) / static_cast<double>(plain);
        std::ostringstream message;
        message << "/bench/json: " << tracedPerRequest
                << " instructions per request with tracing (100%) and the "
                << "access log on, " << plain << " with both off: " << ratio << "x (budget "
                << kTracingRatioBudget << "x)";
        std::cerr << "\n" << message.str() << "\n";
        CPPUNIT_ASSERT_MESSAGE(message.str(), plain > 0 && tracedPerRequest > 0);
        CPPUNIT_ASSERT_MESSAGE(message.str(), ratio <= kTracingRatioBudget);
    }

  private:
    long perRequest(const std::string& path, const Settings& settings) {
        return (run(path, 3000, settings).instructions - run(path, 1000, settings).instructions) / 2000;
    }

    // One berthd run under callgrind that served `count` requests, with `settings` on top of the
    // defaults (CORS, access log on).
    Measured run(const std::string& path, int count, const Settings& settings = {}) {
        BerthdProcess berthd;
        berthd.writeFile("plugins/.keep", "");
        Poco::File(BERTH_BENCH_PLUGIN).copyTo(berthd.pluginsDir() + "/bench.so");
        const int port = pickFreePort();
        berthd.set("server.port", std::to_string(port));
        berthd.set("server.io_threads", "2");
        berthd.set("cors.allowed_origins", "https://app.example.com");
        berthd.set("http.access_log", "true");
        berthd.set("http.access_log_file", berthd.path("access.log"));
        for (const auto& [key, value] : settings) berthd.set(key, value);
        berthd.writeConfig();
        const std::string valgrindLog = berthd.path("valgrind.log");
        pid_t pid = fork();
        if (pid == 0) {
            std::string logArg = "--log-file=" + valgrindLog;
            std::string outArg = "--callgrind-out-file=" + berthd.path("callgrind.out");
            std::string config = berthd.configFile();
            std::string output = berthd.path("berthd.log");
            int log = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(log, 1);
            dup2(log, 2);
            execlp("valgrind", "valgrind", "--tool=callgrind", logArg.c_str(), outArg.c_str(), BERTHD_PATH,
                   "--config", config.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        CPPUNIT_ASSERT_MESSAGE("fork failed", pid > 0);
        bool up = false;
        for (int i = 0; i < 240 && !up; ++i) {
            up = acceptsConnections(port);
            if (!up) usleep(250 * 1000);
        }
        int served = up ? sendRequests(port, path, count) : 0;
        kill(pid, SIGTERM);
        int status = waitForChild(pid, 60000);
        CPPUNIT_ASSERT_MESSAGE("berthd did not come up under valgrind (is valgrind installed?)\n" +
                                   readFile(berthd.path("berthd.log")) + readFile(valgrindLog),
                               up);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("requests answered 200 on " + path, count, served);
        CPPUNIT_ASSERT_EQUAL_MESSAGE("berthd exit status under valgrind", 0, status);
        Measured measured;
        measured.instructions = collectedInstructions(valgrindLog);
        CPPUNIT_ASSERT_MESSAGE("no callgrind total in " + valgrindLog + ":\n" + readFile(valgrindLog),
                               measured.instructions > 0);
        std::string spans = readFile(berthd.path("spans.jsonl"));
        measured.spanLines = static_cast<std::size_t>(std::count(spans.begin(), spans.end(), '\n'));
        return measured;
    }

    void checkBudget(const std::string& path, long budget) {
        long perRequest = this->perRequest(path, {});
        std::ostringstream message;
        message << path << ": " << perRequest << " instructions per request (budget " << budget << ")";
        std::cerr << "\n" << message.str() << "\n";
        CPPUNIT_ASSERT_MESSAGE(message.str(), perRequest > 0);
        CPPUNIT_ASSERT_MESSAGE(message.str(), perRequest <= budget);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(InstructionsPerRequestTest);

}  // namespace berth::test
