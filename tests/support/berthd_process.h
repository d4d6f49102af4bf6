#pragma once
// berthd as a real child process for the end-to-end tests: a private temporary folder with
// plugins/ and plugins.d/ and a berth.properties, a free port, the server's stdout and stderr
// in a log file, and a stop that always reaps the process (PID 1 here does not reap orphans).
//
//     berth::test::BerthdProcess berthd;
//     berthd.addHelloPlugin();
//     berthd.set("cors.allowed_origins", "https://app.example.com");
//     berthd.start();                       // returns once GET /health answers 200
//     berth::test::HttpProbe http(berthd.port());
//     ...
//     int status = berthd.stop();           // SIGTERM, wait; 0 on a clean shutdown

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace berth::test {

/// What a berthd run to completion left behind.
struct RunResult {
    int exitCode = -1;  ///< exit status; 128 + signal when killed by a signal; -1 when it timed out
    bool timedOut = false;
    std::string out;  ///< everything written to stdout
    std::string err;  ///< everything written to stderr
    std::string output() const { return out + err; }
};

/// Binds 127.0.0.1:0, reads the port the kernel chose and closes the socket again.
int pickFreePort();

/// The whole file, or "" when it cannot be read.
std::string readFile(const std::string& path);

/// True when a TCP connect to 127.0.0.1:port succeeds.
bool acceptsConnections(int port);

class BerthdProcess {
  public:
    /// Creates the temporary folder (with plugins/ and plugins.d/); does not start berthd.
    BerthdProcess();
    /// Stops berthd if it runs (and waits for it), then removes the folder.
    ~BerthdProcess();
    BerthdProcess(const BerthdProcess&) = delete;
    BerthdProcess& operator=(const BerthdProcess&) = delete;

    /// The temporary folder (a canonical path, as berthd reports plugin files).
    const std::string& dir() const { return dir_; }
    /// dir() + "/" + relative.
    std::string path(const std::string& relative) const;
    std::string pluginsDir() const { return path("plugins"); }
    std::string configFile() const { return path("berth.properties"); }

    /// Copies build/plugins/hello.so into plugins/ (as `as`).
    void addHelloPlugin(const std::string& as = "hello.so");
    /// Copies a fixture plugin (name without .so) into plugins/, as `as` (default: <fixture>.so).
    void addFixture(const std::string& fixture, const std::string& as = "");
    /// Writes plugins.d/<plugin>.properties.
    void writePluginSettings(const std::string& plugin, const std::string& text);
    /// Writes a file under dir().
    void writeFile(const std::string& relative, const std::string& text);
    /// Sets a line of berth.properties; `set(key, "")` writes an empty value. The defaults are
    /// server.address = 127.0.0.1, a free server.port, server.worker_threads = 4,
    /// plugins.dir = plugins and plugins.conf_dir = plugins.d.
    void set(const std::string& key, const std::string& value);
    /// Leaves a default key out of berth.properties.
    void unset(const std::string& key);
    /// Writes berth.properties from the defaults and set(); start() and run() call it.
    void writeConfig();

    /// Starts berthd (--config berth.properties) and waits until GET /health answers 200.
    /// Throws std::runtime_error, with the log, when it exits or does not answer in 10 s.
    void start();
    /// Starts berthd (--config berth.properties) and returns at once, without waiting for it to
    /// serve (for a start that is expected to wait or fail); stop() or exited() then.
    void launchDetached();
    /// When launchDetached()'s berthd has exited within `timeoutMs`: its status; otherwise -1.
    int waitExit(int timeoutMs);
    /// SIGTERM, then waits (SIGKILL after 10 s). Returns the exit status (128 + signal when
    /// killed). Safe to call twice; returns the first status again.
    int stop();
    bool running() const { return pid_ > 0; }
    int port() const { return port_; }
    pid_t pid() const { return pid_; }

    /// The combined stdout and stderr of the server started by start().
    std::string log() const;
    /// Waits up to `timeoutMs` for `text` to appear in log(); true when it did.
    bool waitForLog(const std::string& text, int timeoutMs = 3000) const;

    /// Runs berthd with `args` in dir() to completion (writing berth.properties first) and
    /// returns its exit status and output; kills it after `timeoutMs`.
    RunResult run(const std::vector<std::string>& args, int timeoutMs = 10000);

  private:
    pid_t launch(const std::vector<std::string>& args, const std::string& outFile,
                 const std::string& errFile);
    std::string config() const;

    std::string dir_;
    int port_ = 0;
    pid_t pid_ = 0;
    int lastStatus_ = -1;
    int runs_ = 0;
    std::vector<std::string> order_;
    std::map<std::string, std::string> settings_;
};

/// Waits for a child process; kills it with SIGKILL after `timeoutMs`. Returns the exit status,
/// 128 + signal, or -1 when it had to be killed on timeout.
int waitForChild(pid_t pid, int timeoutMs);

}  // namespace berth::test
