#include "fanout_executor.h"

#include <Poco/Logger.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "../observe/prometheus_text.h"
#include "berth/error.h"
#include "carried_context.h"

namespace berth::server {
namespace {

// True while this thread runs a fan-out task: a gather called from there helps with its own tasks.
thread_local bool runningTask = false;

}  // namespace

struct FanOutExecutor::Batch {
    enum class State : std::uint8_t { Queued, Running, Done, Cancelled };

    FanOutExecutor* executor = nullptr;
    std::vector<std::function<void()>> tasks;
    CarriedContext context;
    std::mutex mutex;
    std::condition_variable finished;
    std::vector<State> states;
    std::size_t open = 0;    // Queued or Running
    bool abandoned = false;  // the caller gave up at its timeout

    /// Queued → Running; false when a worker, the caller or a cancel got there first.
    bool claim(std::size_t index) {
        std::lock_guard<std::mutex> lock(mutex);
        if (states[index] != State::Queued) return false;
        states[index] = State::Running;
        return true;
    }
};

struct FanOutExecutor::Item {
    std::shared_ptr<Batch> batch;
    std::size_t index;
};

FanOutExecutor::FanOutExecutor(const FanOutSettings& settings, Poco::Logger& logger)
    : logger_(logger), pool_(settings.threads, static_cast<std::size_t>(settings.maxQueued)) {}

FanOutExecutor::~FanOutExecutor() {
    pool_.stop();
}

void FanOutExecutor::runItem(void* argument) {
    std::unique_ptr<Item> item(static_cast<Item*>(argument));
    if (item->batch->claim(item->index)) item->batch->executor->execute(*item->batch, item->index);
}

void FanOutExecutor::execute(Batch& batch, std::size_t index) {
    // A nested caller running an inner task inline is one thread, already counted as busy.
    const bool outer = runningTask;
    if (!outer) busy_.fetch_add(1, std::memory_order_relaxed);
    {
        CarriedContextScope scope(batch.context);
        runningTask = true;
        try {
            batch.tasks[index]();
        } catch (const std::exception& e) {
            // gather's wrappers catch everything; only a task handed to runAll directly gets here.
            logger_.error("a parallel task threw: %s", std::string(e.what()));
        } catch (...) {
            logger_.error("a parallel task threw an exception that is not a std::exception");
        }
        runningTask = outer;
    }
    if (!outer) busy_.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(batch.mutex);
    batch.states[index] = Batch::State::Done;
    if (batch.abandoned) lingering_.fetch_sub(1, std::memory_order_relaxed);
    if (--batch.open == 0) batch.finished.notify_all();
}

std::vector<std::size_t> FanOutExecutor::runAll(std::vector<std::function<void()>> tasks,
                                                std::chrono::milliseconds timeout) {
    if (tasks.empty()) return {};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::size_t count = tasks.size();
    auto batch = std::make_shared<Batch>();
    batch->executor = this;
    batch->tasks = std::move(tasks);
    batch->context = CarriedContext::capture();
    batch->states.assign(count, Batch::State::Queued);
    batch->open = count;

    const bool nested = runningTask;
    std::vector<WorkerPool::Task> items;
    items.reserve(count);
    for (std::size_t i = 0; i < count; ++i) items.push_back({&FanOutExecutor::runItem, new Item{batch, i}});
    if (!pool_.trySubmitAll(items)) {
        for (WorkerPool::Task& task : items) delete static_cast<Item*>(task.argument);
        if (!nested) {
            rejected_.fetch_add(1, std::memory_order_relaxed);
            throw ApiError(503, kFanOutBusy, "too many parallel tasks are waiting; try again later",
                           Json::object({{"tasks", static_cast<std::int64_t>(count)}}));
        }
        // A task's own gather: it runs all of them itself, below.
    }
    // Inline work honours the deadline too: a task not started by then is cancelled below.
    if (nested)
        for (std::size_t i = 0; i < count && std::chrono::steady_clock::now() < deadline; ++i)
            if (batch->claim(i)) execute(*batch, i);

    std::unique_lock<std::mutex> lock(batch->mutex);
    if (batch->finished.wait_until(lock, deadline, [&] { return batch->open == 0; })) return {};
    std::vector<std::size_t> unfinished;
    std::size_t cancelled = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (batch->states[i] == Batch::State::Queued) {
            batch->states[i] = Batch::State::Cancelled;
            --batch->open;
            ++cancelled;
            unfinished.push_back(i);
        } else if (batch->states[i] == Batch::State::Running) {
            lingering_.fetch_add(1, std::memory_order_relaxed);
            unfinished.push_back(i);
        }
    }
    batch->abandoned = true;
    lock.unlock();
    timedOut_.fetch_add(1, std::memory_order_relaxed);
    logger_.warning(
        "request %s: %z of %z parallel task(s) unfinished after %s ms (%z never started; the "
        "others finish in the background)",
        batch->context.requestId.empty() ? std::string("-") : batch->context.requestId, unfinished.size(),
        count, std::to_string(timeout.count()), cancelled);
    return unfinished;
}

bool FanOutExecutor::stopBy(std::chrono::steady_clock::time_point deadline) {
    return pool_.stopBy(deadline);
}

FanOutExecutor::Stats FanOutExecutor::stats() const {
    Stats s;
    s.busy = busy_.load(std::memory_order_relaxed);
    s.lingering = lingering_.load(std::memory_order_relaxed);
    s.timedOut = timedOut_.load(std::memory_order_relaxed);
    s.rejected = rejected_.load(std::memory_order_relaxed);
    return s;
}

void FanOutExecutor::renderMetrics(PrometheusText& text) const {
    Stats s = stats();
    text.family(
        "berth_fanout_tasks", "gauge",
        "Parallel tasks (berth::gather) running now; lingering: their caller gave up at its timeout.");
    text.sample("berth_fanout_tasks").label("state", "running").value(static_cast<std::uint64_t>(s.busy));
    text.sample("berth_fanout_tasks")
        .label("state", "lingering")
        .value(static_cast<std::uint64_t>(s.lingering));
    text.family("berth_fanout_timeouts_total", "counter", "gather calls that gave up at their timeout.");
    text.sample("berth_fanout_timeouts_total").value(s.timedOut);
    text.family("berth_fanout_rejected_total", "counter",
                "gather calls refused (503) because the queue was full.");
    text.sample("berth_fanout_rejected_total").value(s.rejected);
}

}  // namespace berth::server
