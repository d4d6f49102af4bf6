#pragma once
// A real HTTP server on 127.0.0.1 for the tracing tests: a Zipkin collector that takes span batches,
// or a downstream service that shows which headers a call carried. It records every request and
// answers with the status the test sets (202 by default, as Zipkin does).
//
//     berth::test::LoopbackServer collector;                       // a free port
//     berthd.set("tracing.zipkin.url", collector.url("/api/v2/spans"));
//     ... requests ...
//     collector.waitFor([](auto& calls) { return calls.size() >= 1; });
//     std::string batch = collector.received().at(0).body;

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace berth::test {

class LoopbackServer {
  public:
    struct Call {
        std::string method;
        std::string path;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;

        /// The first value of that header (any case), or "" when absent.
        std::string header(const std::string& name) const;
        bool has(const std::string& name) const;
    };

    /// Listens on 127.0.0.1:`port` (0: a free port), reusing the address so that a test can
    /// bring a collector up on a port berthd already tried.
    explicit LoopbackServer(int port = 0);
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    int port() const noexcept;
    /// "http://127.0.0.1:<port>" + path.
    std::string url(const std::string& path = "") const;
    /// The status of every later answer.
    void setStatus(int status);
    std::vector<Call> received() const;
    /// Polls until `done(received())`; true when it held within `timeout`.
    bool waitFor(const std::function<bool(const std::vector<Call>&)>& done,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) const;
    /// Stops listening (later connects are refused); idempotent.
    void stop();

    struct State;

  private:
    std::shared_ptr<State> state_;
};

}  // namespace berth::test
