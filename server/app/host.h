#pragma once
// The server between "configuration loaded" and "wait for the stop": databases, cache, downstream
// clients, the fan-out executor, the plugins (auto-migrate included), metrics, tracing, the access
// log and the HTTP engine, started and stopped in order. berthd runs one
// (BerthApplication::serve), and so does the SDK's test kit, inside the test's process
// (berth/testing.h, ApiTestCase): one code path for both.
//
//     Host host(settings, configFile, Poco::Logger::get("berth"));
//     int port = host.start();  // throws HostStartError (already logged)
//     ...                       // serving
//     if (!host.stop()) std::_Exit(70);  // plugin code still runs: never unload it under itself
//
// A Host touches no signal and no process-wide limit: waiting for a stop is the caller's business,
// and the waits inside start() ask the caller's Pause whether to give up.

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "server_config.h"

namespace Poco {
class Logger;
}

namespace berth::server {

/// Why Host::start() did not start, already logged. exitCode() is berthd's exit status for it
/// (sysexits.h: 69, 70, 73, 78), or 0 when the Pause asked to stop while the start waited.
class HostStartError : public std::runtime_error {
  public:
    HostStartError(int exitCode, const std::string& message)
        : std::runtime_error(message), exitCode_(exitCode) {}
    int exitCode() const noexcept { return exitCode_; }

  private:
    int exitCode_;
};

class Host {
  public:
    /// Waits up to `ms` milliseconds (auto-migrate's backoff while the database is unreachable,
    /// and while it waits for the migration lock); true when a stop was asked for meanwhile,
    /// which ends start() with exit code 0. The default sleeps and never asks to stop.
    using Pause = std::function<bool(int ms)>;

    /// `source` names the configuration in log lines (berthd: the berth.properties path).
    Host(ServerConfig settings, std::string source, Poco::Logger& logger, Pause pause = {});
    /// stop() when still serving.
    ~Host();
    Host(const Host&) = delete;
    Host& operator=(const Host&) = delete;

    /// Makes every part, starts the plugins and the engine; returns the bound port (the kernel's
    /// choice for server.port = 0). On failure everything made so far is stopped and destroyed
    /// again and HostStartError is thrown.
    int start();
    /// Stops serving (in-flight requests get server.shutdown_timeout), then the fan-out tasks, the
    /// access log, tracing and the plugins, and destroys it all. False when plugin code was still
    /// running at the deadline: the plugins were neither stopped nor unloaded and nothing they use
    /// was destroyed (deliberately leaked), so the process must end without unloading them.
    /// Idempotent; true when not serving.
    bool stop();
    bool serving() const noexcept { return parts_ != nullptr; }
    /// The bound port while serving, else 0.
    int port() const noexcept;

  private:
    struct Parts;
    int bringUp();

    ServerConfig settings_;
    std::string source_;
    Poco::Logger& logger_;
    Pause pause_;
    std::unique_ptr<Parts> parts_;
};

}  // namespace berth::server
