#pragma once
// The bounded executor behind berth::gather: threads of its own (fanout.threads), not the handler
// workers, so a handler waiting for its tasks never waits for a worker that is itself waiting.
// A task runs with the request context of the caller (CarriedContext). A caller that gives up at
// its timeout cancels the tasks not started yet; running ones finish in the background and are
// counted as lingering. A task that calls gather itself runs its inner tasks that no executor
// thread has taken yet on its own thread, until its deadline, so nested fan-out cannot deadlock.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../http/worker_pool.h"
#include "berth/fanout.h"
#include "fanout_settings.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class PrometheusText;

class FanOutExecutor : public FanOutRunner {
  public:
    FanOutExecutor(const FanOutSettings& settings, Poco::Logger& logger);
    ~FanOutExecutor() override;
    FanOutExecutor(const FanOutExecutor&) = delete;
    FanOutExecutor& operator=(const FanOutExecutor&) = delete;

    std::vector<std::size_t> runAll(std::vector<std::function<void()>> tasks,
                                    std::chrono::milliseconds timeout) override;

    /// Lets the running tasks finish (no new batch is accepted), then joins the threads. False,
    /// with the threads detached, when tasks still run at `deadline`: the caller must then end
    /// the process without unloading the plugins whose code they run.
    bool stopBy(std::chrono::steady_clock::time_point deadline);

    struct Stats {
        std::size_t busy = 0;        ///< tasks running now
        std::size_t lingering = 0;   ///< of those, tasks whose caller gave up at its timeout
        std::uint64_t timedOut = 0;  ///< batches whose caller gave up
        std::uint64_t rejected = 0;  ///< batches refused because the queue was full
    };
    Stats stats() const;
    /// Prometheus text: berth_fanout_tasks{state="running"|"lingering"} and the counters.
    void renderMetrics(PrometheusText& text) const;

  private:
    struct Batch;
    struct Item;
    static void runItem(void* item);
    /// Runs `index` of `batch` on this thread (a worker, or a nested caller helping).
    void execute(Batch& batch, std::size_t index);

    Poco::Logger& logger_;
    WorkerPool pool_;
    std::atomic<std::size_t> busy_{0};
    std::atomic<std::size_t> lingering_{0};
    std::atomic<std::uint64_t> timedOut_{0};
    std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace berth::server
