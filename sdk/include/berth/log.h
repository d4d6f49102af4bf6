#pragma once
/// berth/log.h — the `logged` helper: one unit of work logged on entry and on exit, with its
/// duration and outcome (ok, or the exception's type and message), under four fields that say
/// what it is — type, category, detail, description — and, while tracing is on, a span of its own
/// named after the detail (berth/trace.h). The C++ form of the old
/// `@logger(type, category, detail, description, tracing, level)` decorator.
///
///     // A wrapper: returns what the lambda returns; an exception is logged and passes on.
///     berth::Json task = berth::logged(ctx.logger(),
///                                      berth::LogSpec("db", "visits", "load task", "loads one visit task"),
///                                      [&] { return loadTask(conn, id); });
///
///     // A scope: entry now, exit when it ends.
///     {
///         berth::Logged scope(ctx.logger(), berth::LogSpec("http", "hospitals", "sync")
///                                               .level(Poco::Message::PRIO_DEBUG)
///                                               .tracing(false));
///         syncHospitals();
///     }
///
/// Log lines (the exit one at PRIO_ERROR when it failed, at the spec's level otherwise):
///     "load task: start"
///     "load task: ok in 1.234 ms"
///     "load task: failed in 0.512 ms: berth::DbError: duplicate key …"
/// Their Poco::Message parameters carry the fields, which the JSON log formatter writes as JSON
/// fields: type, category, detail, description, phase ("start"/"end"), and at the end
/// duration_ms, outcome ("ok"/"error"), error_type and error.
///
/// A Logged scope left by an exception knows that it failed but not why (C++ gives a destructor
/// no access to the exception in flight): call fail(e) in a catch, or use the wrapper, which does.

#include <Poco/Message.h>

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace Poco {
class Logger;
}

namespace berth {
inline namespace v1 {

class Span;

/// What a logged unit of work is: the decorator's arguments, built readably.
class LogSpec {
  public:
    LogSpec(std::string type, std::string category, std::string detail, std::string description = {})
        : type_(std::move(type)),
          category_(std::move(category)),
          detail_(std::move(detail)),
          description_(std::move(description)) {}

    /// The level of the start and ok lines (default PRIO_INFORMATION); a failure logs PRIO_ERROR.
    LogSpec& level(Poco::Message::Priority priority) noexcept {
        level_ = priority;
        return *this;
    }
    /// Whether the unit gets a span of its own while tracing is on (default true).
    LogSpec& tracing(bool on) noexcept {
        tracing_ = on;
        return *this;
    }

    const std::string& type() const noexcept { return type_; }
    const std::string& category() const noexcept { return category_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& description() const noexcept { return description_; }
    Poco::Message::Priority level() const noexcept { return level_; }
    bool tracing() const noexcept { return tracing_; }

  private:
    std::string type_;
    std::string category_;
    std::string detail_;
    std::string description_;
    Poco::Message::Priority level_ = Poco::Message::PRIO_INFORMATION;
    bool tracing_ = true;
};

/// Logs the start now and the end (duration, outcome) when destroyed; holds the span meanwhile.
class Logged {
  public:
    Logged(Poco::Logger& logger, LogSpec spec);
    ~Logged();
    Logged(const Logged&) = delete;
    Logged& operator=(const Logged&) = delete;

    /// Records why the unit failed (its end is then logged as an error, and the span marked).
    void fail(const std::exception& error);
    void fail(std::string type, std::string message);

  private:
    /// The start line, or with `durationMs` the end line.
    void log(Poco::Message::Priority priority, const std::string& text, const std::string* durationMs) const;

    Poco::Logger& logger_;
    LogSpec spec_;
    std::chrono::steady_clock::time_point start_;
    int uncaughtAtStart_;
    bool failed_ = false;
    std::string errorType_;
    std::string error_;
    std::unique_ptr<Span> span_;
};

/// Runs `work` inside a Logged scope and returns its result; an exception is logged with its
/// type and message and passes on.
template <class Work>
decltype(auto) logged(Poco::Logger& logger, LogSpec spec, Work&& work) {
    Logged scope(logger, std::move(spec));
    try {
        return std::forward<Work>(work)();
    } catch (const std::exception& e) {
        scope.fail(e);
        throw;
    } catch (...) {
        scope.fail("unknown", "an exception not derived from std::exception");
        throw;
    }
}

}  // namespace v1
}  // namespace berth
