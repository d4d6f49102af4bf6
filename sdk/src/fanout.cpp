#include "berth/fanout.h"

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "berth/error.h"

namespace berth {
inline namespace v1 {

namespace {

// Set by berthd once before it serves and cleared after the last task has finished; read by
// every gather.
std::atomic<FanOutRunner*> installedRunner{nullptr};

}  // namespace

FanOutRunner::~FanOutRunner() = default;

void setFanOutRunner(FanOutRunner* runner) noexcept {
    installedRunner.store(runner, std::memory_order_release);
}

namespace detail {

class FailureLog {
  public:
    std::mutex mutex;
    std::exception_ptr first;
};

std::shared_ptr<FailureLog> makeFailureLog() {
    return std::make_shared<FailureLog>();
}

void recordFailure(FailureLog& log, std::exception_ptr error) noexcept {
    std::lock_guard<std::mutex> lock(log.mutex);
    if (!log.first) log.first = std::move(error);
}

std::vector<std::size_t> runTasks(std::vector<std::function<void()>> tasks,
                                  std::chrono::milliseconds timeout) {
    FanOutRunner* runner = installedRunner.load(std::memory_order_acquire);
    if (runner == nullptr)
        throw std::logic_error("berth::gather needs berthd's fan-out executor, and none is running");
    if (timeout.count() <= 0)
        throw std::invalid_argument("berth::gather: the timeout must be positive, not " +
                                    std::to_string(timeout.count()) + " ms");
    return runner->runAll(std::move(tasks), timeout);
}

void rethrowFailure(FailureLog& log, const std::vector<std::size_t>& unfinished,
                    std::chrono::milliseconds timeout) {
    std::exception_ptr first;
    {
        std::lock_guard<std::mutex> lock(log.mutex);
        first = log.first;
    }
    if (first) std::rethrow_exception(first);
    if (unfinished.empty()) return;
    Json positions = Json::array();
    for (std::size_t i : unfinished) positions.push(static_cast<std::int64_t>(i));
    throw ApiError(504, kFanOutTimeout,
                   std::to_string(unfinished.size()) + " parallel task(s) did not finish within " +
                       std::to_string(timeout.count()) + " ms",
                   Json::object({{"timeout_ms", static_cast<std::int64_t>(timeout.count())},
                                 {"unfinished", std::move(positions)}}));
}

}  // namespace detail

}  // namespace v1
}  // namespace berth
