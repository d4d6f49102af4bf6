#pragma once
/// berth/fanout.h — several downstream calls and database queries at once (what asyncio.gather
/// did): each task runs on the host's fan-out executor (`fanout.*` in berth.properties, not the
/// handler workers), and the call returns when every task has finished.
///
///     auto [hospital, city] = berth::gather(
///         std::chrono::seconds(3),
///         [this, hid] { return hospitals_->getJson("/hospitals/" + std::to_string(hid)); },
///         [this, cid] { return cities_->getJson("/cities/" + std::to_string(cid)); });
///
///     std::vector<std::function<berth::Json()>> calls;             // N tasks of one kind
///     for (std::int64_t id : ids)
///         calls.push_back([this, id] { return products_->getJson("/products/" + std::to_string(id)); });
///     std::vector<berth::Json> products = berth::gatherAll(std::chrono::seconds(3), std::move(calls));
///
///     berth::TaskRequest forTasks(req);                            // a DB query as one of the tasks
///     auto [rows, user] = berth::gather(std::chrono::seconds(3),
///         [this, forTasks] { return db_->acquire(forTasks).query("SELECT …").toJson(); },
///         [this] { return users_->getJson("/users/9"); });
///
/// - Results come back in the order of the tasks; a task returning void gives std::monostate.
/// - Tasks run with the caller's request context: its request id (logs, X-Request-Id of downstream
///   calls) and its current span (spans made in a task are its children; downstream calls carry its
///   trace). Each task takes its own database connection.
/// - Errors: when tasks throw, gather waits for all of them and then rethrows the exception that
///   was thrown first (in time). When `timeout` passes first, gather throws ApiError 504 (code
///   50402) naming the unfinished tasks: those not started yet never run; those running cannot be
///   stopped — they run to completion in the background and their results are dropped. At most
///   `fanout.threads` tasks can linger that way (only running tasks linger).
/// - Because a task may outlive the call after a timeout, capture by value what it uses (ids,
///   `this`, client pointers), never locals or the handler's Request by reference; for ctx.db()
///   give it a TaskRequest. The host waits for lingering tasks before stopping plugins.
/// - When the executor's queue (fanout.max_queued) has no room for the tasks: ApiError 503 (code
///   50303), nothing runs. gather inside a task is allowed: the task runs the inner tasks that no
///   executor thread has taken yet itself, so nesting never deadlocks; it starts none after its
///   timeout (those are cancelled: 504 as above).
/// - Callables must be copyable (they are stored in std::function).

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "berth/request.h"

namespace berth {
inline namespace v1 {

/// Error codes of the envelopes gather throws.
enum FanOutErrorCode : int {
    kFanOutBusy = 50303,
    kFanOutTimeout = 50402,
};

/// A Request that carries only the request id of another one, in storage of its own: what a
/// gather task passes to Database::acquire()/transaction(), since the handler's Request is gone
/// once the handler returns (after a timeout, a task may still run). Copyable.
class TaskRequest : public Request {
  public:
    explicit TaskRequest(const Request& of) : id_(of.requestId()) { requestId_ = id_; }
    TaskRequest(const TaskRequest& other) : Request(), id_(other.id_) { requestId_ = id_; }
    TaskRequest& operator=(const TaskRequest&) = delete;
    ~TaskRequest() = default;

  private:
    std::string id_;
};

/// The host's executor behind gather(). Plugins call gather, not this.
class FanOutRunner {
  public:
    virtual ~FanOutRunner();
    /// Runs every task on an executor thread with the caller's request context and returns when
    /// all have finished or `timeout` has passed: the positions of the tasks that had not finished
    /// (not started: never run; running: they finish in the background). Throws ApiError 503 when
    /// the queue has no room for them (then none runs). Tasks must not throw.
    virtual std::vector<std::size_t> runAll(std::vector<std::function<void()>> tasks,
                                            std::chrono::milliseconds timeout) = 0;
};

/// For the host: the runner behind gather() (nullptr: none, and gather throws std::logic_error).
void setFanOutRunner(FanOutRunner* runner) noexcept;

namespace detail {

/// The first exception of one batch; written by tasks that may outlive the caller.
class FailureLog;
std::shared_ptr<FailureLog> makeFailureLog();
void recordFailure(FailureLog& log, std::exception_ptr error) noexcept;
std::vector<std::size_t> runTasks(std::vector<std::function<void()>> tasks,
                                  std::chrono::milliseconds timeout);
/// Throws the first recorded exception; else, when `unfinished` is not empty, the 504; else returns.
void rethrowFailure(FailureLog& log, const std::vector<std::size_t>& unfinished,
                    std::chrono::milliseconds timeout);

template <class F>
using Result = std::conditional_t<std::is_void_v<std::invoke_result_t<F&>>, std::monostate,
                                  std::decay_t<std::invoke_result_t<F&>>>;

/// Runs one task into its slot; what it throws goes to the batch's FailureLog.
template <class Slot, class F>
void runInto(Slot& slot, F& task, FailureLog& failures) noexcept {
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
            task();
            slot.emplace();
        } else {
            slot.emplace(task());
        }
    } catch (...) {
        recordFailure(failures, std::current_exception());
    }
}

template <class State, std::size_t... I, class... F>
void wrapEach(const std::shared_ptr<State>& state, std::vector<std::function<void()>>& out,
              std::index_sequence<I...>, F&&... tasks) {
    (out.push_back([state, task = std::forward<F>(tasks)]() mutable {
        runInto(std::get<I>(state->slots), task, *state->failures);
    }),
     ...);
}

}  // namespace detail

/// Runs the tasks at once and returns their results in order (see the top of this file).
template <class... F>
std::tuple<detail::Result<F>...> gather(std::chrono::milliseconds timeout, F... tasks) {
    static_assert(sizeof...(F) > 0, "gather needs at least one task");
    struct State {
        std::tuple<std::optional<detail::Result<F>>...> slots;
        std::shared_ptr<detail::FailureLog> failures = detail::makeFailureLog();
    };
    auto state = std::make_shared<State>();
    std::vector<std::function<void()>> wrapped;
    wrapped.reserve(sizeof...(F));
    detail::wrapEach(state, wrapped, std::index_sequence_for<F...>{}, std::move(tasks)...);
    std::vector<std::size_t> unfinished = detail::runTasks(std::move(wrapped), timeout);
    detail::rethrowFailure(*state->failures, unfinished, timeout);
    return std::apply([](auto&... slot) { return std::make_tuple(std::move(*slot)...); }, state->slots);
}

/// N tasks of one kind at once; their results in order (see the top of this file). No task: {}.
template <class F>
std::vector<detail::Result<F>> gatherAll(std::chrono::milliseconds timeout, std::vector<F> tasks) {
    using R = detail::Result<F>;
    struct State {
        std::vector<std::optional<R>> slots;
        std::shared_ptr<detail::FailureLog> failures = detail::makeFailureLog();
    };
    if (tasks.empty()) return {};
    auto state = std::make_shared<State>();
    state->slots.resize(tasks.size());
    std::vector<std::function<void()>> wrapped;
    wrapped.reserve(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i)
        wrapped.push_back([state, i, task = std::move(tasks[i])]() mutable {
            detail::runInto(state->slots[i], task, *state->failures);
        });
    std::vector<std::size_t> unfinished = detail::runTasks(std::move(wrapped), timeout);
    detail::rethrowFailure(*state->failures, unfinished, timeout);
    std::vector<R> results;
    results.reserve(state->slots.size());
    for (std::optional<R>& slot : state->slots) results.push_back(std::move(*slot));
    return results;
}

}  // namespace v1
}  // namespace berth
