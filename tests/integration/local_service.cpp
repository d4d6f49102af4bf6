#include "local_service.h"

#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "berthd_process.h"

namespace berth::test {

void requireAnswers(const LocalService& service, int port, const char* portVariable) {
    if (!acceptsConnections(port))
        CPPUNIT_FAIL(std::string(service.name) + " does not answer on 127.0.0.1:" + std::to_string(port) +
                     " (" + portVariable + "): start it with `scripts/" + service.script + " " +
                     service.startArgs + "`");
}

void runServiceScript(const LocalService& service, const std::string& args) {
    const std::string script = std::string("scripts/") + service.script;
    std::string command = std::string(BERTH_SOURCE_DIR) + "/" + script + " " + args + " 2>&1";
    int status = std::system(command.c_str());
    CPPUNIT_ASSERT_EQUAL_MESSAGE(script + " " + args, 0, status);
}

std::string uniqueId() {
    static std::atomic<int> counter{0};
    return "it_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
}

}  // namespace berth::test
