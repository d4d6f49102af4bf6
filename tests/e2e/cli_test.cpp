// berthd's command line: --help, --version, --check-config (the shipped configuration and one
// with many problems), a missing or invalid configuration, and --daemon with --pidfile.
#include <Poco/File.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/Thread.h>
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#include "berthd_process.h"
#include "e2e_assert.h"
#include "http_probe.h"

namespace berth::test {
namespace {

constexpr int kExitConfig = 78;

int countLinesStartingWith(const std::string& text, const std::string& start) {
    std::istringstream lines(text);
    std::string line;
    int count = 0;
    while (std::getline(lines, line))
        if (line.compare(0, start.size(), start) == 0) ++count;
    return count;
}

/// State of a process as /proc shows it: 'R', 'S', 'Z', ... or 0 when there is none.
char processState(pid_t pid) {
    std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    std::size_t paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
    return stat[paren + 2];
}

/// Makes this test process the reaper of its orphaned descendants (a daemon's parent exits
/// at once) and kills and reaps a daemon left behind by a failing test.
class DaemonGuard {
  public:
    DaemonGuard() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
    ~DaemonGuard() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            int status = 0;
            ::waitpid(pid, &status, 0);
        }
        ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    }
    pid_t pid = 0;
};

}  // namespace

class CliTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CliTest);
    CPPUNIT_TEST(testHelp);
    CPPUNIT_TEST(testVersion);
    CPPUNIT_TEST(testCheckConfigAcceptsShippedConfiguration);
    CPPUNIT_TEST(testCheckConfigAcceptsGoodConfiguration);
    CPPUNIT_TEST(testCheckConfigReportsEveryProblem);
    CPPUNIT_TEST(testMissingConfigFile);
    CPPUNIT_TEST(testInvalidConfigRefusesToServe);
    CPPUNIT_TEST(testDaemonWritesPidfileAndServes);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override { berthd_ = std::make_unique<BerthdProcess>(); }
    void tearDown() override { berthd_.reset(); }

    void testHelp() {
        for (const char* option : {"--help", "-h"}) {
            RunResult run = berthd_->run({option});
            CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), 0, run.exitCode);
            E2E_ASSERT_CONTAINS(run.out, "--config");
            E2E_ASSERT_CONTAINS(run.out, "--check-config");
            E2E_ASSERT_CONTAINS(run.out, "--daemon");
            E2E_ASSERT_CONTAINS(run.out, "--pidfile");
            E2E_ASSERT_CONTAINS(run.out, "--version");
        }
    }

    void testVersion() {
        // Works without a configuration file.
        for (const char* option : {"--version", "-v"}) {
            std::vector<std::string> args{option, "--config", berthd_->path("absent.properties")};
            RunResult run = berthd_->run(args);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), 0, run.exitCode);
            CPPUNIT_ASSERT_MESSAGE(run.output(), run.out.compare(0, 12, "berthd 0.1.0") == 0);
            E2E_ASSERT_CONTAINS(run.out, "plugin ABI 1");
        }
    }

    void testCheckConfigAcceptsShippedConfiguration() {
        // The shipped conf/ as is, but for plugins.dir: it points at ../build/plugins, and this
        // build may live elsewhere.
        const std::string source = std::string(BERTH_SOURCE_DIR) + "/conf";
        std::string text = readFile(source + "/berth.properties");
        const std::string line = "plugins.dir = ../build/plugins";
        CPPUNIT_ASSERT_MESSAGE("the shipped plugins.dir changed; update this test",
                               text.find(line) != std::string::npos);
        text.replace(text.find(line), line.size(), std::string("plugins.dir = ") + BERTH_PLUGIN_DIR);
        berthd_->writeFile("conf/berth.properties", text);
        berthd_->writeFile("conf/logging.properties", readFile(source + "/logging.properties"));
        berthd_->writeFile("conf/plugins.d/hello.properties",
                           readFile(source + "/plugins.d/hello.properties"));
        RunResult run = berthd_->run({"--check-config", "--config", berthd_->path("conf/berth.properties")});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), 0, run.exitCode);
        E2E_ASSERT_CONTAINS(run.out, "configuration OK");
    }

    void testCheckConfigAcceptsGoodConfiguration() {
        berthd_->addHelloPlugin();
        berthd_->addFixture("order_base");
        berthd_->writePluginSettings("hello", "greeting = Howdy\nprefix = /api/hi\n");
        const int port = pickFreePort();
        berthd_->set("server.port", std::to_string(port));
        berthd_->set("cors.allowed_origins", "https://app.example.com");
        RunResult run = berthd_->run({"--check-config", "--config", berthd_->configFile()});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), 0, run.exitCode);
        E2E_ASSERT_CONTAINS(run.out, berthd_->configFile() + ": configuration OK");
        E2E_ASSERT_NOT_CONTAINS(run.output(), "error:");
        E2E_ASSERT_NOT_CONTAINS(run.output(), "listening");
        CPPUNIT_ASSERT(!acceptsConnections(port));
    }

    void testCheckConfigReportsEveryProblem() {
        berthd_->addHelloPlugin();
        berthd_->addFixture("garbage");
        berthd_->addFixture("wrong_abi");
        berthd_->set("server.port", "99999");
        berthd_->set("server.prot", "8080");
        berthd_->set("plugins.on_failure", "sometimes");
        RunResult run = berthd_->run({"--check-config", "--config", berthd_->configFile()});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), kExitConfig, run.exitCode);
        const std::string& err = run.err;
        E2E_ASSERT_LINE_WITH(err, "error: ", "server.port", "99999", "out of range");
        E2E_ASSERT_LINE_WITH(err, "error: ", "server.prot", "not a berthd setting");
        E2E_ASSERT_LINE_WITH(err, "error: ", "plugins.on_failure", "sometimes");
        E2E_ASSERT_LINE_WITH(err, "error: ", berthd_->path("plugins/garbage.so"), "invalid ELF header");
        E2E_ASSERT_LINE_WITH(err, "error: ", berthd_->path("plugins/wrong_abi.so"),
                             "plugin ABI version 999, this berthd expects 1");
        CPPUNIT_ASSERT_EQUAL_MESSAGE("one 'error:' line per problem:\n" + err, 5,
                                     countLinesStartingWith(err, "error: "));
        E2E_ASSERT_CONTAINS(err, "5 problem(s)");
        E2E_ASSERT_NOT_CONTAINS(run.out, "configuration OK");
        E2E_ASSERT_NOT_CONTAINS(err, "hello.so");  // the good plugin is not a problem
    }

    void testMissingConfigFile() {
        const std::string missing = berthd_->path("missing.properties");
        for (bool check : {false, true}) {
            std::vector<std::string> args{"--config", missing};
            if (check) args.push_back("--check-config");
            RunResult run = berthd_->run(args);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), kExitConfig, run.exitCode);
            E2E_ASSERT_LINE_WITH(run.err, missing, "does not exist");
        }
        // A relative path is taken from the working directory, and the message says which file.
        RunResult relative = berthd_->run({"--config=nowhere/berth.properties"});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(relative.output(), kExitConfig, relative.exitCode);
        E2E_ASSERT_LINE_WITH(relative.err, berthd_->path("nowhere/berth.properties"), "does not exist");
    }

    void testInvalidConfigRefusesToServe() {
        berthd_->addHelloPlugin();
        berthd_->set("server.port", "99999");
        berthd_->set("http.max_header_count", "lots");
        RunResult run = berthd_->run({"--config", berthd_->configFile()});
        CPPUNIT_ASSERT_EQUAL_MESSAGE(run.output(), kExitConfig, run.exitCode);
        E2E_ASSERT_LINE_WITH(run.output(), "server.port", "99999", "out of range");
        E2E_ASSERT_LINE_WITH(run.output(), "http.max_header_count", "lots", "not an integer");
        E2E_ASSERT_NOT_CONTAINS(run.output(), "listening on");
        E2E_ASSERT_NOT_CONTAINS(run.output(), "started under");  // no plugin code ran
    }

    void testDaemonWritesPidfileAndServes() {
        berthd_->addHelloPlugin();
        const int port = pickFreePort();
        berthd_->set("server.port", std::to_string(port));
        // A daemon's stdout and stderr are /dev/null: log to a file so that failures explain themselves.
        const std::string daemonLog = berthd_->path("daemon.log");
        berthd_->writeFile("logging.properties",
                           "logging.channels.file.class = FileChannel\n"
                           "logging.channels.file.path = " +
                               daemonLog +
                               "\n"
                               "logging.loggers.root.channel = file\n"
                               "logging.loggers.root.level = information\n");
        const std::string pidfile = berthd_->path("berthd.pid");

        DaemonGuard guard;
        RunResult launcher =
            berthd_->run({"--config", berthd_->configFile(), "--daemon", "--pidfile=" + pidfile});
        CPPUNIT_ASSERT_EQUAL_MESSAGE("the launching process exits 0 once detached:\n" + launcher.output(), 0,
                                     launcher.exitCode);

        // The pidfile appears with a live pid.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int pid = 0;
        while (!Poco::NumberParser::tryParse(Poco::trim(readFile(pidfile)), pid) || pid <= 0) {
            CPPUNIT_ASSERT_MESSAGE("no pidfile after 10 s; log:\n" + readFile(daemonLog),
                                   std::chrono::steady_clock::now() < deadline);
            Poco::Thread::sleep(20);
        }
        guard.pid = pid;
        CPPUNIT_ASSERT_MESSAGE("pid " + std::to_string(pid) + " is not alive", ::kill(pid, 0) == 0);

        // It serves.
        HttpProbe http(port);
        HttpResult greet;
        while (true) {
            try {
                greet = http.get("/hello/greet/daemon");
                break;
            } catch (const std::exception& e) {
                CPPUNIT_ASSERT_MESSAGE(
                    std::string("the daemon does not answer: ") + e.what() + "\nlog:\n" + readFile(daemonLog),
                    std::chrono::steady_clock::now() < deadline);
                Poco::Thread::sleep(20);
            }
        }
        E2E_ASSERT_STATUS(200, greet);
        E2E_ASSERT_HEALTHY(port);
        CPPUNIT_ASSERT_MESSAGE(
            "pidfile names a process that is not berthd",
            readFile("/proc/" + std::to_string(pid) + "/cmdline").find("berthd") != std::string::npos);

        // SIGTERM by the pidfile's pid; it is not our child, so poll until it is gone.
        CPPUNIT_ASSERT_EQUAL(0, ::kill(pid, SIGTERM));
        const auto stopDeadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int exitStatus = -1;
        while (true) {
            int status = 0;
            pid_t reaped = ::waitpid(pid, &status, WNOHANG);  // works: we are its subreaper
            if (reaped == pid) {
                exitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                break;
            }
            char state = processState(pid);
            if (reaped < 0 && (state == 0 || state == 'Z')) break;  // gone, reaped by someone else
            CPPUNIT_ASSERT_MESSAGE(
                "berthd daemon still running 10 s after SIGTERM; log:\n" + readFile(daemonLog),
                std::chrono::steady_clock::now() < stopDeadline);
            Poco::Thread::sleep(20);
        }
        guard.pid = 0;
        if (exitStatus != -1)
            CPPUNIT_ASSERT_EQUAL_MESSAGE("daemon exit status; log:\n" + readFile(daemonLog), 0, exitStatus);
        CPPUNIT_ASSERT(!acceptsConnections(port));
        E2E_ASSERT_CONTAINS(readFile(daemonLog), "shutting down");
        CPPUNIT_ASSERT_MESSAGE("stale pidfile after a clean shutdown", !Poco::File(pidfile).exists());
    }

  private:
    std::unique_ptr<BerthdProcess> berthd_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CliTest);

}  // namespace berth::test
