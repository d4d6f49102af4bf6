// scripts/coverage and -DBERTH_COVERAGE, without the long coverage build itself: the command's help
// and its refusal of a build folder configured without the option, the option off by default, on it
// instruments the server, the SDK and the plugins with gcc (--coverage, -O0 after the build type's
// -O2, linked with --coverage), and it refuses clang.
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/TemporaryFile.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "berthd_process.h"

namespace {

struct Outcome {
    int status = -1;
    std::string output;  ///< stdout and stderr
};

Outcome run(const std::string& command) {
    Outcome outcome;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return outcome;
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) outcome.output.append(buffer, n);
    int status = ::pclose(pipe);
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return outcome;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// The last -O flag of a compile command ("-O2", "-O0"), "" when it has none.
std::string lastOptimisation(const std::string& command) {
    std::string last;
    std::istringstream words(command);
    for (std::string word; words >> word;)
        if (word.rfind("-O", 0) == 0) last = word;
    return last;
}

}  // namespace

class CoverageCommandTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CoverageCommandTest);
    CPPUNIT_TEST(testHelp);
    CPPUNIT_TEST(testOptionOffByDefaultThenInstruments);
    CPPUNIT_TEST(testRefusesClang);
    CPPUNIT_TEST(testRefusesUnsafeReportDir);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        build_ = Poco::TemporaryFile::tempName();
        Poco::File(build_).createDirectories();
    }
    void tearDown() override { Poco::File(build_).remove(true); }

    // BERTH_COVERAGE_DIR is removed from on every run: a folder that holds anything but an earlier
    // report is refused before anything is built, and keeps its files.
    void testRefusesUnsafeReportDir() {
        const std::string keep = build_ + "/reports/notes.txt";
        Poco::File(build_ + "/reports").createDirectories();
        Poco::File(keep).createFile();
        for (const std::string& dir :
             {std::string("/"), std::string(BERTH_SOURCE_DIR), build_ + "/reports"}) {
            Outcome refused = run("BERTH_COVERAGE_DIR='" + dir + "' BERTH_COVERAGE_BUILD_DIR='" + build_ +
                                  "/build' timeout 30 " + script());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(dir + ": " + refused.output, 1, refused.status);
            CPPUNIT_ASSERT_MESSAGE(refused.output, contains(refused.output, "BERTH_COVERAGE_DIR="));
        }
        CPPUNIT_ASSERT(Poco::File(keep).exists());
        CPPUNIT_ASSERT(!Poco::File(build_ + "/build").exists());
    }

    void testHelp() {
        Outcome help = run(script() + " --help");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(help.output, 0, help.status);
        for (const char* promise :
             {"coverage/coverage.xml", "coverage/html/index.html", "-DBERTH_COVERAGE=ON",
              "-LE 'perf|coverage'", "BERTH_COVERAGE_BUILD_DIR", ".berth-coverage"})
            CPPUNIT_ASSERT_MESSAGE(std::string(promise) + " not in:\n" + help.output,
                                   contains(help.output, promise));
    }

    void testOptionOffByDefaultThenInstruments() {
        Outcome plain = configure("");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(plain.output, 0, plain.status);
        CPPUNIT_ASSERT_MESSAGE("instrumented by default",
                               !contains(compileCommand("server/main.cpp"), "--coverage"));
        // scripts/coverage will not measure a build folder configured without the option. (Were it
        // to go on, it would build there: `timeout` ends that with 124.)
        Outcome refused = run("BERTH_COVERAGE_BUILD_DIR='" + build_ + "' timeout 30 " + script());
        CPPUNIT_ASSERT_EQUAL_MESSAGE(refused.output, 1, refused.status);
        CPPUNIT_ASSERT_MESSAGE(refused.output,
                               contains(refused.output, "configured without -DBERTH_COVERAGE=ON"));

        Outcome on = configure("-DBERTH_COVERAGE=ON");
        CPPUNIT_ASSERT_EQUAL_MESSAGE(on.output, 0, on.status);
        for (const char* source : {"server/main.cpp", "server/http/pipeline.cpp", "sdk/src/json.cpp",
                                   "plugins/hello/hello_plugin.cpp"}) {
            std::string command = compileCommand(source);
            CPPUNIT_ASSERT_MESSAGE(command, contains(command, " --coverage "));
            CPPUNIT_ASSERT_MESSAGE(command, contains(command, " -fprofile-update=atomic "));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(command, std::string("-O0"), lastOptimisation(command));
        }
        std::string link = berth::test::readFile(build_ + "/server/CMakeFiles/berthd.dir/link.txt");
        CPPUNIT_ASSERT_MESSAGE(link, contains(link, "--coverage"));
    }

    void testRefusesClang() {
        if (run("command -v clang++").status != 0) {
            // clang comes with fuzz/run, after the suite in `scripts/dev test`; without it there is
            // nothing to refuse.
            std::fputs("CoverageCommandTest::testRefusesClang: no clang++, not checked\n", stderr);
            return;
        }
        Outcome clang =
            configure("-DBERTH_COVERAGE=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang");
        CPPUNIT_ASSERT_MESSAGE(clang.output, clang.status != 0);
        CPPUNIT_ASSERT_MESSAGE(clang.output,
                               contains(clang.output, "BERTH_COVERAGE needs gcc (found Clang)"));
    }

  private:
    static std::string script() { return std::string(BERTH_SOURCE_DIR) + "/scripts/coverage"; }

    // Configures the project (without its tests, for speed) in the temporary folder.
    Outcome configure(const std::string& options) {
        return run(std::string(BERTH_CMAKE) + " -S '" + BERTH_SOURCE_DIR + "' -B '" + build_ +
                   "' -DBERTH_BUILD_TESTS=OFF " + options);
    }

    // The compile command of `source` (relative to the repository) in the temporary folder.
    std::string compileCommand(const std::string& source) {
        Poco::JSON::Array::Ptr commands = Poco::JSON::Parser()
                                              .parse(berth::test::readFile(build_ + "/compile_commands.json"))
                                              .extract<Poco::JSON::Array::Ptr>();
        const std::string file = std::string(BERTH_SOURCE_DIR) + "/" + source;
        for (std::size_t i = 0; i < commands->size(); ++i) {
            Poco::JSON::Object::Ptr entry = commands->getObject(static_cast<unsigned>(i));
            if (entry->getValue<std::string>("file") == file) return entry->getValue<std::string>("command");
        }
        CPPUNIT_FAIL("no compile command for " + file);
        return "";
    }

    std::string build_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CoverageCommandTest);
