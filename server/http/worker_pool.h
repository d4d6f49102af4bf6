#pragma once
// The bounded pool that runs handlers which may block (database, cache, downstream calls), so
// the I/O loops never wait on plugin code. A full queue is refused at once: the loop answers
// 503 instead of letting requests pile up without bound.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace berth::server {

class WorkerPool {
  public:
    /// A task is a plain function and its argument: no allocation per request.
    struct Task {
        void (*run)(void* argument);
        void* argument;
    };

    WorkerPool(int threads, std::size_t maxQueued);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    /// False when `maxQueued` tasks are already waiting (or the pool is stopping).
    bool trySubmit(Task task);
    /// All of `tasks` or, when they do not all fit below `maxQueued` (or the pool is stopping),
    /// none of them: false.
    bool trySubmitAll(const std::vector<Task>& tasks);
    /// Runs what is queued, then joins the threads. Idempotent.
    void stop();
    /// As stop(), but gives up at `deadline` (steady clock): returns false, with the threads
    /// detached, when handlers are still running then. The caller must then end the process
    /// without unloading the plugins those handlers belong to.
    bool stopBy(std::chrono::steady_clock::time_point deadline);

  private:
    void work();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::size_t active_ = 0;
    std::deque<Task> queue_;
    std::vector<std::thread> threads_;
    std::size_t maxQueued_;
    bool stopping_ = false;
};

}  // namespace berth::server
