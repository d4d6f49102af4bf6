#pragma once
// A Poco::Formatter that writes each log message as one JSON object on one line, for
// Elasticsearch (or jq): timestamp, level, logger, plugin, message, thread, request_id,
// trace_id, span_id, then every parameter of the Poco::Message as a string field.
//
//     logging.formatters.json.class = JsonFormatter      # conf/logging.properties
//     logging.channels.file.formatter = json
//
//     Poco::Message message("berth.visits", "visit stored", Poco::Message::PRIO_INFORMATION);
//     message.set("visit_id", "42");                      // → "visit_id":"42"
//     logger.log(message);
//
// plugin, request_id, trace_id and span_id come from the LogContext of the thread that formats
// (log_context.h): format on the thread that logs (a FormattingChannel in front of any
// AsyncChannel, never behind it). Fields that are unknown are left out, not written as null.

#include <Poco/Formatter.h>

#include <string>

namespace Poco {
class Message;
}

namespace berth::server {

class JsonLogFormatter : public Poco::Formatter {
  public:
    /// The class name for logging.formatters.<name>.class.
    static constexpr const char* kClassName = "JsonFormatter";
    /// A parameter named like a fixed field, or starting with this, gets this in front of its
    /// name, so that it can neither overwrite a fixed field nor collide with another parameter.
    static constexpr const char* kClashPrefix = "field_";

    /// Registers kClassName with Poco::LoggingFactory::defaultFactory(); call it before the
    /// LoggingConfigurator reads the logging.* keys. Registering twice is harmless.
    static void registerWithLoggingFactory();

    void format(const Poco::Message& message, std::string& text) override;
};

}  // namespace berth::server
