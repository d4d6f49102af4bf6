#include "berth/log.h"

#include <Poco/Logger.h>
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <typeinfo>

#include "berth/trace.h"

namespace berth {
inline namespace v1 {
namespace {

// "berth::v1::DbError" rather than the mangled "N5berth2v17DbErrorE".
std::string typeName(const std::type_info& type) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string name = status == 0 && demangled != nullptr ? demangled : type.name();
    std::free(demangled);
    return name;
}

std::string milliseconds(std::chrono::steady_clock::duration elapsed) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f",
                  std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count() / 1e6);
    return text;
}

}  // namespace

Logged::Logged(Poco::Logger& logger, LogSpec spec)
    : logger_(logger),
      spec_(std::move(spec)),
      start_(std::chrono::steady_clock::now()),
      uncaughtAtStart_(std::uncaught_exceptions()) {
    if (spec_.tracing() && Tracer::installed() != nullptr) {
        span_ = std::make_unique<Span>(spec_.detail().empty() ? spec_.category() : spec_.detail());
        if (span_->recording()) {
            span_->tag("type", spec_.type());
            span_->tag("category", spec_.category());
            if (!spec_.description().empty()) span_->tag("description", spec_.description());
        }
    }
    if (logger_.is(spec_.level())) log(spec_.level(), spec_.detail() + ": start", nullptr);
}

Logged::~Logged() {
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    if (!failed_ && std::uncaught_exceptions() > uncaughtAtStart_) {
        failed_ = true;  // left by an exception that no one told us about
        errorType_ = "unknown";
        error_ = "left by an exception";
    }
    try {
        // Logged while the span is still current, so that the end line names the same span as the
        // start line (finishing makes the parent current again).
        Poco::Message::Priority priority = failed_ ? Poco::Message::PRIO_ERROR : spec_.level();
        if (logger_.is(priority)) {
            std::string ms = milliseconds(elapsed);
            std::string text =
                failed_ ? spec_.detail() + ": failed in " + ms + " ms: " + errorType_ + ": " + error_
                        : spec_.detail() + ": ok in " + ms + " ms";
            log(priority, text, &ms);
        }
    } catch (...) {
        // A destructor must not throw: a log line that cannot be written is lost.
    }
    try {
        if (span_) {
            if (failed_) span_->error(errorType_ + ": " + error_);
            span_->finish();
        }
    } catch (...) {
        // The error tag could not be made; the span still finishes (its destructor).
    }
}

void Logged::fail(const std::exception& error) {
    fail(typeName(typeid(error)), error.what());
}

void Logged::fail(std::string type, std::string message) {
    if (failed_) return;  // the innermost report is the precise one
    failed_ = true;
    errorType_ = std::move(type);
    error_ = std::move(message);
}

void Logged::log(Poco::Message::Priority priority, const std::string& text,
                 const std::string* durationMs) const {
    const bool end = durationMs != nullptr;
    Poco::Message message(logger_.name(), text, priority);
    message.set("type", spec_.type());
    message.set("category", spec_.category());
    message.set("detail", spec_.detail());
    if (!spec_.description().empty()) message.set("description", spec_.description());
    message.set("phase", end ? "end" : "start");
    if (end) {
        message.set("duration_ms", *durationMs);
        message.set("outcome", failed_ ? "error" : "ok");
        if (failed_) {
            message.set("error_type", errorType_);
            message.set("error", error_);
        }
    }
    logger_.log(message);
}

}  // namespace v1
}  // namespace berth
