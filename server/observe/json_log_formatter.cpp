#include "json_log_formatter.h"

#include <Poco/Instantiator.h>
#include <Poco/LoggingFactory.h>
#include <Poco/Message.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <map>
#include <mutex>
#include <string_view>

#include "berth/json.h"
#include "log_context.h"
#include "plugin_loggers.h"

namespace berth::server {

using ParameterMap = std::map<std::string, std::string>;

// Poco 1.11's Message can set and get a parameter by name but cannot list them (a getter came
// in later versions), and the formatter must write every one. "The usual access checking rules
// do not apply to names used to specify explicit instantiations" ([temp.explicit]), so this
// reads the map without undefined behaviour; a Poco that renames or retypes the member fails to
// compile here instead of misbehaving.
ParameterMap* Poco::Message::*messageParametersMember();

template <ParameterMap* Poco::Message::*Member>
struct MessageParametersAccess {
    friend ParameterMap* Poco::Message::*messageParametersMember() { return Member; }
};
template struct MessageParametersAccess<&Poco::Message::_pMap>;

namespace {

constexpr std::string_view kFixedFields[] = {"timestamp", "level",      "logger",   "plugin", "message",
                                             "thread",    "request_id", "trace_id", "span_id"};

// Lowercase names that Elasticsearch, Kibana and jq users recognise (syslog's, with "info"
// rather than Poco's "information").
std::string_view levelName(Poco::Message::Priority priority) {
    switch (priority) {
        case Poco::Message::PRIO_FATAL:
            return "fatal";
        case Poco::Message::PRIO_CRITICAL:
            return "critical";
        case Poco::Message::PRIO_ERROR:
            return "error";
        case Poco::Message::PRIO_WARNING:
            return "warning";
        case Poco::Message::PRIO_NOTICE:
            return "notice";
        case Poco::Message::PRIO_INFORMATION:
            return "info";
        case Poco::Message::PRIO_DEBUG:
            return "debug";
        case Poco::Message::PRIO_TRACE:
            return "trace";
    }
    return "unknown";
}

// `,"name":"value"`; names are escaped like values, since a parameter's name is anyone's text.
void appendField(std::string& out, std::string_view name, std::string_view value) {
    out += ',';
    appendJsonString(out, name);
    out += ':';
    appendJsonString(out, value);
}

// "2026-11-25T13:42:41.415Z"
void appendTimestamp(std::string& out, const Poco::Timestamp& time) {
    Poco::Timestamp::TimeVal us = time.epochMicroseconds();
    std::int64_t ms = us / 1000 - (us % 1000 < 0 ? 1 : 0);  // floor, also before 1970
    std::time_t seconds = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    int millis = static_cast<int>(ms - static_cast<std::int64_t>(seconds) * 1000);
    std::tm utc;
    gmtime_r(&seconds, &utc);
    char text[40];
    std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    text[n++] = '.';
    text[n++] = static_cast<char>('0' + millis / 100);
    text[n++] = static_cast<char>('0' + millis / 10 % 10);
    text[n++] = static_cast<char>('0' + millis % 10);
    text[n++] = 'Z';
    out += "{\"timestamp\":\"";
    out.append(text, n);
    out += '"';
}

bool needsClashPrefix(std::string_view name) {
    if (name.empty()) return true;
    if (name.substr(0, std::string_view(JsonLogFormatter::kClashPrefix).size()) ==
        JsonLogFormatter::kClashPrefix)
        return true;
    for (std::string_view fixed : kFixedFields)
        if (name == fixed) return true;
    return false;
}

}  // namespace

void JsonLogFormatter::registerWithLoggingFactory() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::LoggingFactory::defaultFactory().registerFormatterClass(
            kClassName, new Poco::Instantiator<JsonLogFormatter, Poco::Formatter>);
    });
}

void JsonLogFormatter::format(const Poco::Message& message, std::string& text) {
    const LogContext& context = currentLogContext();
    text.reserve(text.size() + 256 + message.getText().size());
    appendTimestamp(text, message.getTime());
    appendField(text, "level", levelName(message.getPriority()));
    appendField(text, "logger", message.getSource());
    if (context.plugin != nullptr && *context.plugin != '\0') {  // "": a host route (/ready)
        appendField(text, "plugin", context.plugin);
    } else {
        std::string plugin = pluginOfLogger(message.getSource());
        if (!plugin.empty()) appendField(text, "plugin", plugin);
    }
    appendField(text, "message", message.getText());
    // Poco fills in the thread only for a Poco::Thread; ours are std::threads, so the kernel's
    // id of the formatting thread (the logging one, see the header) stands in for it.
    if (!message.getThread().empty()) {
        appendField(text, "thread", message.getThread());
    } else {
        thread_local const long tid = static_cast<long>(::syscall(SYS_gettid));
        char digits[24];
        char* end = std::to_chars(digits, digits + sizeof digits, tid).ptr;
        appendField(text, "thread", std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }
    if (!context.requestId.empty()) appendField(text, "request_id", context.requestId);
    if (context.traceIdLength != 0) appendField(text, "trace_id", context.traceIdView());
    if (context.spanIdLength != 0) appendField(text, "span_id", context.spanIdView());
    if (const ParameterMap* parameters = message.*messageParametersMember()) {
        std::string prefixed;
        for (const auto& [name, value] : *parameters) {
            if (needsClashPrefix(name)) {
                prefixed.assign(kClashPrefix).append(name);
                appendField(text, prefixed, value);
            } else {
                appendField(text, name, value);
            }
        }
    }
    text += '}';
}

}  // namespace berth::server
