#pragma once
// What pg_env and redis_env share about a local server the integration tests talk to, beyond
// reading its settings (the test kit's local_services.h does that): checking that it answers,
// running its script under scripts/, and names unique to this test process.

#include <string>

namespace berth::test {

/// A local server as the failure messages name it.
struct LocalService {
    const char* name;       ///< "PostgreSQL"
    const char* script;     ///< "postgres": scripts/postgres
    const char* startArgs;  ///< "start --replica": what starts it for the tests
};

/// Fails the test unless 127.0.0.1:`port` (read from `portVariable`) accepts connections, saying
/// how to start the service.
void requireAnswers(const LocalService& service, int port, const char* portVariable);

/// Runs scripts/<service.script> with `args` ("restart", "stop >/dev/null"); fails the test on a
/// non-zero exit.
void runServiceScript(const LocalService& service, const std::string& args);

/// "it_<pid>_<n>": unique to this process and call.
std::string uniqueId();

}  // namespace berth::test
