// The JSON log formatter's lines, each parsed back with Poco::JSON: every fixed field, the
// request's context (and its absence), the plugin named by its logger, hostile message bytes,
// parameters as fields, names that clash with fixed fields, and its registration by class name.
#include <Poco/AutoPtr.h>
#include <Poco/Formatter.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/LoggingFactory.h>
#include <Poco/Message.h>
#include <Poco/Timestamp.h>
#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <string>

#include "observe/json_log_formatter.h"
#include "observe/log_context.h"
#include "observe/plugin_loggers.h"

using berth::server::JsonLogFormatter;
using berth::server::LogContextScope;
using berth::server::setLogTraceIds;

namespace {

// 2026-11-25T13:42:41.415926Z
constexpr Poco::Timestamp::TimeVal kExampleUs = 1795614161415926;

Poco::Message exampleMessage(const std::string& source = "berth.http", const std::string& text = "hello",
                             Poco::Message::Priority priority = Poco::Message::PRIO_WARNING) {
    Poco::Message message(source, text, priority);
    message.setTime(Poco::Timestamp(kExampleUs));
    return message;
}

std::string formatted(const Poco::Message& message) {
    JsonLogFormatter formatter;
    std::string text;
    formatter.format(message, text);
    return text;
}

Poco::JSON::Object::Ptr parse(const std::string& line) {
    CPPUNIT_ASSERT_MESSAGE("one line: " + line, line.find('\n') == std::string::npos);
    CPPUNIT_ASSERT_MESSAGE("no raw control byte: " + line,
                           line.find_first_of(std::string("\r\t\0\x01\x1f", 5)) == std::string::npos);
    Poco::JSON::Parser parser;
    try {
        return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& e) {
        CPPUNIT_FAIL("not JSON (" + e.displayText() + "): " + line);
    }
    return nullptr;
}

std::set<std::string> keysOf(const Poco::JSON::Object::Ptr& object) {
    std::set<std::string> keys;
    for (const auto& [name, value] : *object) keys.insert(name);
    return keys;
}

// Counts `"name":` in the raw line: the parser keeps only the last of duplicate keys.
std::size_t occurrences(const std::string& line, const std::string& name) {
    std::string needle = "\"" + name + "\":";
    std::size_t count = 0;
    for (std::size_t at = line.find(needle); at != std::string::npos; at = line.find(needle, at + 1)) ++count;
    return count;
}

}  // namespace

class JsonLogFormatterTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(JsonLogFormatterTest);
    CPPUNIT_TEST(testFixedFieldsOutsideARequest);
    CPPUNIT_TEST(testTimestampIsUtcWithMilliseconds);
    CPPUNIT_TEST(testLevelNames);
    CPPUNIT_TEST(testRequestContext);
    CPPUNIT_TEST(testNestedScopeRestoresTheOuterContext);
    CPPUNIT_TEST(testLongTraceIdsAreCut);
    CPPUNIT_TEST(testPluginFromLoggerName);
    CPPUNIT_TEST(testHostileMessageBytes);
    CPPUNIT_TEST(testParametersAsFields);
    CPPUNIT_TEST(testClashingParameterNames);
    CPPUNIT_TEST(testAppendsToGivenText);
    CPPUNIT_TEST(testRegisteredByClassName);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testFixedFieldsOutsideARequest() {
        std::string line = formatted(exampleMessage("berth.http", "listening on 127.0.0.1:8080"));
        Poco::JSON::Object::Ptr json = parse(line);
        CPPUNIT_ASSERT_EQUAL(std::string("2026-11-25T13:42:41.415Z"),
                             json->getValue<std::string>("timestamp"));
        CPPUNIT_ASSERT_EQUAL(std::string("warning"), json->getValue<std::string>("level"));
        CPPUNIT_ASSERT_EQUAL(std::string("berth.http"), json->getValue<std::string>("logger"));
        CPPUNIT_ASSERT_EQUAL(std::string("listening on 127.0.0.1:8080"),
                             json->getValue<std::string>("message"));
        // A std::thread has no Poco name: the kernel's thread id, as digits.
        std::string thread = json->getValue<std::string>("thread");
        CPPUNIT_ASSERT(!thread.empty());
        CPPUNIT_ASSERT_EQUAL(std::string::npos, thread.find_first_not_of("0123456789"));
        // Unknown fields are left out: no plugin (berth.http is the host's), no request.
        CPPUNIT_ASSERT(
            (keysOf(json) == std::set<std::string>{"timestamp", "level", "logger", "message", "thread"}));
        CPPUNIT_ASSERT_EQUAL(std::string("{\"timestamp\":\"2026-11-25T13:42:41.415Z\",\"level\":\"warning\""),
                             line.substr(0, 57));
    }

    void testTimestampIsUtcWithMilliseconds() {
        Poco::Message message = exampleMessage();
        message.setTime(Poco::Timestamp(999999));  // 0.999999 s after the epoch: cut, not rounded
        CPPUNIT_ASSERT_EQUAL(std::string("1970-01-01T00:00:00.999Z"),
                             parse(formatted(message))->getValue<std::string>("timestamp"));
        message.setTime(Poco::Timestamp(-1500));  // 1.5 ms before it
        CPPUNIT_ASSERT_EQUAL(std::string("1969-12-31T23:59:59.998Z"),
                             parse(formatted(message))->getValue<std::string>("timestamp"));
        message.setTime(Poco::Timestamp(951782400000000 + 7000));  // a leap day
        CPPUNIT_ASSERT_EQUAL(std::string("2000-02-29T00:00:00.007Z"),
                             parse(formatted(message))->getValue<std::string>("timestamp"));
    }

    void testLevelNames() {
        const std::pair<Poco::Message::Priority, const char*> expected[] = {
            {Poco::Message::PRIO_FATAL, "fatal"},   {Poco::Message::PRIO_CRITICAL, "critical"},
            {Poco::Message::PRIO_ERROR, "error"},   {Poco::Message::PRIO_WARNING, "warning"},
            {Poco::Message::PRIO_NOTICE, "notice"}, {Poco::Message::PRIO_INFORMATION, "info"},
            {Poco::Message::PRIO_DEBUG, "debug"},   {Poco::Message::PRIO_TRACE, "trace"},
        };
        for (const auto& [priority, name] : expected)
            CPPUNIT_ASSERT_EQUAL(
                std::string(name),
                parse(formatted(exampleMessage("berth", "x", priority)))->getValue<std::string>("level"));
    }

    void testRequestContext() {
        {
            LogContextScope scope("visits", "991a25a35de45cd7309327093f6c9a27");
            setLogTraceIds("463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312");
            Poco::JSON::Object::Ptr json = parse(formatted(exampleMessage("berth.http", "stored")));
            CPPUNIT_ASSERT_EQUAL(std::string("visits"), json->getValue<std::string>("plugin"));
            CPPUNIT_ASSERT_EQUAL(std::string("991a25a35de45cd7309327093f6c9a27"),
                                 json->getValue<std::string>("request_id"));
            CPPUNIT_ASSERT_EQUAL(std::string("463ac35c9f6413ad48485a3953bb6124"),
                                 json->getValue<std::string>("trace_id"));
            CPPUNIT_ASSERT_EQUAL(std::string("a2fb4a1d1a96d312"), json->getValue<std::string>("span_id"));
            setLogTraceIds("", "");  // the span ended
            json = parse(formatted(exampleMessage()));
            CPPUNIT_ASSERT(!json->has("trace_id"));
            CPPUNIT_ASSERT(!json->has("span_id"));
            CPPUNIT_ASSERT(json->has("request_id"));
            setLogTraceIds("463ac35c9f6413ad", "a2fb4a1d1a96d312");  // left set at the scope's end
        }
        Poco::JSON::Object::Ptr json = parse(formatted(exampleMessage()));
        for (const char* gone : {"plugin", "request_id", "trace_id", "span_id"})
            CPPUNIT_ASSERT_MESSAGE(gone, !json->has(gone));
        // A new request starts without the previous one's trace.
        LogContextScope next("hello", "next");
        json = parse(formatted(exampleMessage()));
        CPPUNIT_ASSERT(!json->has("trace_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("next"), json->getValue<std::string>("request_id"));
    }

    void testNestedScopeRestoresTheOuterContext() {
        LogContextScope outer("visits", "outer-id");
        setLogTraceIds("00000000000000000000000000000001", "0000000000000002");
        {
            LogContextScope inner("hello", "inner-id");
            Poco::JSON::Object::Ptr json = parse(formatted(exampleMessage()));
            CPPUNIT_ASSERT_EQUAL(std::string("hello"), json->getValue<std::string>("plugin"));
            CPPUNIT_ASSERT(!json->has("trace_id"));
            setLogTraceIds("ffffffffffffffffffffffffffffffff", "ffffffffffffffff");
        }
        Poco::JSON::Object::Ptr json = parse(formatted(exampleMessage()));
        CPPUNIT_ASSERT_EQUAL(std::string("visits"), json->getValue<std::string>("plugin"));
        CPPUNIT_ASSERT_EQUAL(std::string("outer-id"), json->getValue<std::string>("request_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("00000000000000000000000000000001"),
                             json->getValue<std::string>("trace_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("0000000000000002"), json->getValue<std::string>("span_id"));
    }

    void testLongTraceIdsAreCut() {
        LogContextScope scope("visits", "id");
        setLogTraceIds(std::string(40, 'a'), std::string(20, 'b'));
        Poco::JSON::Object::Ptr json = parse(formatted(exampleMessage()));
        CPPUNIT_ASSERT_EQUAL(std::string(32, 'a'), json->getValue<std::string>("trace_id"));
        CPPUNIT_ASSERT_EQUAL(std::string(16, 'b'), json->getValue<std::string>("span_id"));
    }

    void testPluginFromLoggerName() {
        berth::server::notePluginLogger("logtest");
        auto pluginOf = [](const std::string& logger) {
            Poco::JSON::Object::Ptr json = parse(formatted(exampleMessage(logger)));
            return json->has("plugin") ? json->getValue<std::string>("plugin") : std::string("-");
        };
        CPPUNIT_ASSERT_EQUAL(std::string("logtest"), pluginOf("berth.logtest"));
        CPPUNIT_ASSERT_EQUAL(std::string("logtest"), pluginOf("berth.logtest.sync"));
        CPPUNIT_ASSERT_EQUAL(std::string("-"), pluginOf("berth.logtestx"));
        CPPUNIT_ASSERT_EQUAL(std::string("-"), pluginOf("berth"));
        CPPUNIT_ASSERT_EQUAL(std::string("-"), pluginOf("berth.http"));
        CPPUNIT_ASSERT_EQUAL(std::string("-"), pluginOf("logtest"));
        // A host route's request (its plugin is "") names none, but for the logger's.
        {
            LogContextScope hostRoute("", "id");
            CPPUNIT_ASSERT_EQUAL(std::string("-"), pluginOf("berth.http"));
            CPPUNIT_ASSERT_EQUAL(std::string("logtest"), pluginOf("berth.logtest"));
        }
        // A request's plugin wins over the logger's name (a host logger during a request).
        LogContextScope scope("visits", "id");
        CPPUNIT_ASSERT_EQUAL(std::string("visits"), pluginOf("berth.logtest"));
    }

    void testHostileMessageBytes() {
        const std::string hostile = std::string("quote \" backslash \\ newline \n cr \r tab \t nul ") + '\0' +
                                    " bell \x07 esc \x1b del \x7f" + " bad \xff\xfe cut \xe2\x82" +
                                    " ok é € 😀 } {\"level\":\"fatal\"}";
        std::string line = formatted(exampleMessage("berth.\"evil\nlogger", hostile));
        // Control bytes come back as they were (escaped on the way); each byte outside a valid
        // UTF-8 sequence, a cut one too, as U+FFFD.
        Poco::JSON::Object::Ptr json = parse(line);
        const std::string expected = std::string("quote \" backslash \\ newline \n cr \r tab \t nul ") +
                                     '\0' + " bell \x07 esc \x1b del \x7f" +
                                     " bad \xef\xbf\xbd\xef\xbf\xbd cut \xef\xbf\xbd\xef\xbf\xbd" +
                                     " ok é € 😀 } {\"level\":\"fatal\"}";
        CPPUNIT_ASSERT_EQUAL(expected, json->getValue<std::string>("message"));
        CPPUNIT_ASSERT_EQUAL(std::string("berth.\"evil\nlogger"), json->getValue<std::string>("logger"));
        CPPUNIT_ASSERT_EQUAL(std::string("warning"), json->getValue<std::string>("level"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), occurrences(line, "level"));
    }

    void testParametersAsFields() {
        Poco::Message message = exampleMessage();
        message.set("visit_id", "42");
        message.set("user", "a\"b\nc\xff");
        message.set("db.statement", "SELECT 1");
        Poco::JSON::Object::Ptr json = parse(formatted(message));
        CPPUNIT_ASSERT_EQUAL(std::string("42"), json->getValue<std::string>("visit_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("a\"b\nc\xef\xbf\xbd"), json->getValue<std::string>("user"));
        CPPUNIT_ASSERT_EQUAL(std::string("SELECT 1"), json->getValue<std::string>("db.statement"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(8), json->size());
    }

    void testClashingParameterNames() {
        LogContextScope scope("visits", "the-request");
        Poco::Message message = exampleMessage("berth.http", "the message", Poco::Message::PRIO_ERROR);
        for (const char* fixed : {"timestamp", "level", "logger", "plugin", "message", "thread", "request_id",
                                  "trace_id", "span_id"})
            message.set(fixed, std::string("forged ") + fixed);
        message.set("field_level", "an honest field_level");
        message.set("", "no name");
        message.set("fine", "kept as is");
        std::string line = formatted(message);
        Poco::JSON::Object::Ptr json = parse(line);
        CPPUNIT_ASSERT_EQUAL(std::string("the message"), json->getValue<std::string>("message"));
        CPPUNIT_ASSERT_EQUAL(std::string("error"), json->getValue<std::string>("level"));
        CPPUNIT_ASSERT_EQUAL(std::string("visits"), json->getValue<std::string>("plugin"));
        CPPUNIT_ASSERT_EQUAL(std::string("the-request"), json->getValue<std::string>("request_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("berth.http"), json->getValue<std::string>("logger"));
        CPPUNIT_ASSERT_EQUAL(std::string("2026-11-25T13:42:41.415Z"),
                             json->getValue<std::string>("timestamp"));
        CPPUNIT_ASSERT(!json->has("trace_id"));  // forged ids do not stand in for the context's
        CPPUNIT_ASSERT_EQUAL(std::string("forged level"), json->getValue<std::string>("field_level"));
        CPPUNIT_ASSERT_EQUAL(std::string("forged trace_id"), json->getValue<std::string>("field_trace_id"));
        CPPUNIT_ASSERT_EQUAL(std::string("an honest field_level"),
                             json->getValue<std::string>("field_field_level"));
        CPPUNIT_ASSERT_EQUAL(std::string("no name"), json->getValue<std::string>("field_"));
        CPPUNIT_ASSERT_EQUAL(std::string("kept as is"), json->getValue<std::string>("fine"));
        // 7 fixed fields (no trace or span) + 12 parameters, none lost to a duplicate key.
        CPPUNIT_ASSERT_EQUAL(std::size_t(7 + 12), json->size());
        for (const char* fixed :
             {"timestamp", "level", "logger", "plugin", "message", "thread", "request_id"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(fixed, std::size_t(1), occurrences(line, fixed));
    }

    void testAppendsToGivenText() {
        // A FormattingChannel hands over an empty string, but a Formatter must only append.
        JsonLogFormatter formatter;
        std::string text = "prefix ";
        formatter.format(exampleMessage(), text);
        CPPUNIT_ASSERT_EQUAL(std::string("prefix {"), text.substr(0, 8));
        parse(text.substr(7));
    }

    void testRegisteredByClassName() {
        JsonLogFormatter::registerWithLoggingFactory();
        JsonLogFormatter::registerWithLoggingFactory();  // a second time is harmless
        Poco::AutoPtr<Poco::Formatter> formatter(
            Poco::LoggingFactory::defaultFactory().createFormatter(JsonLogFormatter::kClassName));
        CPPUNIT_ASSERT(dynamic_cast<JsonLogFormatter*>(formatter.get()) != nullptr);
        std::string text;
        formatter->format(exampleMessage(), text);
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), parse(text)->getValue<std::string>("message"));
        // Unknown properties are refused, as by Poco's own formatters.
        CPPUNIT_ASSERT_THROW(formatter->setProperty("colour", "blue"), Poco::Exception);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(JsonLogFormatterTest);
