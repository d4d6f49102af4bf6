#include "berthd_process.h"

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Path.h>
#include <Poco/Process.h>
#include <Poco/Thread.h>
#include <Poco/Timespan.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "http_probe.h"

#ifndef BERTHD_PATH
#error "BERTHD_PATH must name the berthd binary (berth_add_test_runner defines it)"
#endif

namespace berth::test {
namespace {

constexpr int kStartTimeoutMs = 10000;
constexpr int kStopTimeoutMs = 10000;

using Clock = std::chrono::steady_clock;

// For /bin/sh: 'text' with every ' written as '\''.
std::string shellQuote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'')
            quoted += "'\\''";
        else
            quoted += c;
    }
    return quoted + "'";
}

int decodeStatus(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

std::string canonical(const std::string& path) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return path;
    return resolved;
}

}  // namespace

int pickFreePort() {
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    int port = socket.address().port();
    socket.close();
    return port;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool acceptsConnections(int port) {
    try {
        Poco::Net::StreamSocket socket;
        socket.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)),
                       Poco::Timespan(1, 0));
        socket.close();
        return true;
    } catch (const Poco::Exception&) {
        return false;
    }
}

int waitForChild(pid_t pid, int timeoutMs) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    int status = 0;
    while (true) {
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) return decodeStatus(status);
        if (done < 0 && errno != EINTR) return -1;  // not our child (any more)
        if (Clock::now() >= deadline) break;
        Poco::Thread::sleep(10);
    }
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return -1;
}

BerthdProcess::BerthdProcess() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/berth-e2e-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp(" + pattern + ") failed");
    dir_ = canonical(buffer.data());
    Poco::File(path("plugins")).createDirectories();
    Poco::File(path("plugins.d")).createDirectories();

    set("server.address", "127.0.0.1");
    set("server.port", "0");  // replaced by a free port in start()
    set("server.worker_threads", "4");
    set("plugins.dir", "plugins");
    set("plugins.conf_dir", "plugins.d");
    // Inside the temporary folder, not the shipped ../logs, which would land outside it.
    set("http.access_log_file", "logs/access.log");
}

BerthdProcess::~BerthdProcess() {
    try {
        stop();
    } catch (...) {
    }
    const char* keep = std::getenv("BERTH_E2E_KEEP");
    if (keep != nullptr && *keep != '\0') return;
    try {
        Poco::File(dir_).remove(true);
    } catch (...) {
    }
}

std::string BerthdProcess::path(const std::string& relative) const {
    return dir_ + "/" + relative;
}

void BerthdProcess::addHelloPlugin(const std::string& as) {
    Poco::File source(std::string(BERTH_PLUGIN_DIR) + "/hello.so");
    if (!source.exists())
        throw std::runtime_error(source.path() + " does not exist (build the hello target)");
    source.copyTo(path("plugins/" + as));
}

void BerthdProcess::addFixture(const std::string& fixture, const std::string& as) {
    Poco::File source(std::string(BERTH_FIXTURE_DIR) + "/" + fixture + ".so");
    if (!source.exists())
        throw std::runtime_error(source.path() + " does not exist (build the berth_fixtures target)");
    source.copyTo(path("plugins/" + (as.empty() ? fixture + ".so" : as)));
}

void BerthdProcess::writePluginSettings(const std::string& plugin, const std::string& text) {
    writeFile("plugins.d/" + plugin + ".properties", text);
}

void BerthdProcess::writeFile(const std::string& relative, const std::string& text) {
    Poco::File(Poco::Path(path(relative)).parent()).createDirectories();
    std::ofstream out(path(relative), std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path(relative));
}

void BerthdProcess::set(const std::string& key, const std::string& value) {
    if (settings_.count(key) == 0) order_.push_back(key);
    settings_[key] = value;
}

void BerthdProcess::unset(const std::string& key) {
    settings_.erase(key);
    for (auto it = order_.begin(); it != order_.end(); ++it)
        if (*it == key) {
            order_.erase(it);
            break;
        }
}

std::string BerthdProcess::config() const {
    std::string text = "# written by the berthd end-to-end tests\n";
    for (const std::string& key : order_) text += key + " = " + settings_.at(key) + "\n";
    return text;
}

void BerthdProcess::writeConfig() {
    writeFile("berth.properties", config());
}

pid_t BerthdProcess::launch(const std::vector<std::string>& args, const std::string& outFile,
                            const std::string& errFile) {
    // The shell only redirects and then becomes berthd (exec), so the pid is berthd's own.
    std::string script = "exec \"$0\" \"$@\" </dev/null >" + shellQuote(outFile) + " 2>" +
                         (errFile == outFile ? std::string("&1") : shellQuote(errFile));
    Poco::Process::Args shellArgs{"-c", script, BERTHD_PATH};
    shellArgs.insert(shellArgs.end(), args.begin(), args.end());
    Poco::ProcessHandle handle = Poco::Process::launch("/bin/sh", shellArgs, dir_, nullptr, nullptr, nullptr);
    return handle.id();
}

void BerthdProcess::launchDetached() {
    if (running()) throw std::logic_error("berthd is already running");
    port_ = pickFreePort();
    settings_["server.port"] = std::to_string(port_);
    writeConfig();
    pid_ = launch({"--config", configFile()}, path("berthd.log"), path("berthd.log"));
    settings_["server.port"] = "0";
}

int BerthdProcess::waitExit(int timeoutMs) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (running()) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = 0;
            lastStatus_ = decodeStatus(status);
            break;
        }
        if (Clock::now() >= deadline) return -1;
        Poco::Thread::sleep(20);
    }
    return lastStatus_;
}

void BerthdProcess::start() {
    if (running()) throw std::logic_error("berthd is already running");
    const bool fixedPort = settings_.at("server.port") != "0";
    for (int attempt = 1;; ++attempt) {
        port_ = fixedPort ? std::stoi(settings_.at("server.port")) : pickFreePort();
        if (!fixedPort) settings_["server.port"] = std::to_string(port_);
        writeConfig();
        pid_ = launch({"--config", configFile()}, path("berthd.log"), path("berthd.log"));
        if (!fixedPort) settings_["server.port"] = "0";

        const auto deadline = Clock::now() + std::chrono::milliseconds(kStartTimeoutMs);
        HttpProbe http(port_, 1000);
        while (true) {
            int status = 0;
            pid_t done = ::waitpid(pid_, &status, WNOHANG);
            if (done == pid_) {
                pid_ = 0;
                lastStatus_ = decodeStatus(status);
                // Someone else took the free port between pickFreePort() and the bind: retry.
                if (!fixedPort && attempt < 3 && log().find("cannot listen") != std::string::npos) break;
                throw std::runtime_error("berthd exited with status " + std::to_string(lastStatus_) +
                                         " before answering GET /health; its log:\n" + log());
            }
            try {
                if (http.get("/health").status == 200) return;
            } catch (const std::exception&) {
                // not listening yet
            }
            if (Clock::now() >= deadline) {
                std::string log = this->log();
                stop();
                throw std::runtime_error("berthd did not answer GET /health on port " +
                                         std::to_string(port_) + " within 10 s; its log:\n" + log);
            }
            Poco::Thread::sleep(20);
        }
    }
}

int BerthdProcess::stop() {
    if (!running()) return lastStatus_;
    ::kill(pid_, SIGTERM);
    lastStatus_ = waitForChild(pid_, kStopTimeoutMs);
    pid_ = 0;
    return lastStatus_;
}

std::string BerthdProcess::log() const {
    return readFile(path("berthd.log"));
}

bool BerthdProcess::waitForLog(const std::string& text, int timeoutMs) const {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (log().find(text) == std::string::npos) {
        if (Clock::now() >= deadline) return false;
        Poco::Thread::sleep(10);
    }
    return true;
}

RunResult BerthdProcess::run(const std::vector<std::string>& args, int timeoutMs) {
    writeConfig();
    std::string stem = "run" + std::to_string(++runs_);
    std::string outFile = path(stem + ".out");
    std::string errFile = path(stem + ".err");
    pid_t pid = launch(args, outFile, errFile);
    RunResult result;
    result.exitCode = waitForChild(pid, timeoutMs);
    result.timedOut = result.exitCode == -1;
    result.out = readFile(outFile);
    result.err = readFile(errFile);
    return result;
}

}  // namespace berth::test
