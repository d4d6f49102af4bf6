// berth::Logged and berth::logged (berth/log.h): the start and end lines with their fields as
// Poco::Message parameters, the duration and outcome, an exception's type and message (and the
// exception passed on), the level, and the span of its own while tracing is on — which both lines
// name in the log context.
#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "berth/log.h"
#include "observe/log_context.h"
#include "test_helpers.h"
#include "trace/current_span.h"
#include "trace/tracing.h"
#include "trace_test_helpers.h"
#include "zipkin_schema.h"

namespace {

// Keeps each message and the span id the JSON formatter would have written with it.
class KeepMessages : public Poco::Channel {
  public:
    void log(const Poco::Message& message) override {
        messages.push_back(message);
        spanIds.emplace_back(berth::server::currentLogContext().spanIdView());
    }
    std::vector<Poco::Message> messages;
    std::vector<std::string> spanIds;
};

// Tracing on, with spans written to a file of its own; spans() stops it and reads them back.
class SpanFile {
  public:
    SpanFile() : tracing_(settings(dir_), Poco::Logger::get("test.tracing")) {}
    std::vector<Poco::JSON::Object::Ptr> spans() {
        tracing_.stop();
        return berth::test::parseLines(berth::test::readText(dir_.file("spans.jsonl")));
    }

  private:
    static berth::server::TraceSettings settings(const berth::test::TempDir& dir) {
        berth::server::TraceSettings s;
        s.enabled = true;
        s.file = dir.file("spans.jsonl");
        return s;
    }
    berth::test::TempDir dir_;
    berth::server::Tracing tracing_;
};

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("the price list is gone") {}
};

}  // namespace

class LoggedTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LoggedTest);
    CPPUNIT_TEST(testWrapperLogsStartAndEnd);
    CPPUNIT_TEST(testWrapperLogsExceptionAndRethrows);
    CPPUNIT_TEST(testScopeAndLevel);
    CPPUNIT_TEST(testScopeLeftByException);
    CPPUNIT_TEST(testSpanOfItsOwn);
    CPPUNIT_TEST(testStartAndEndNameTheUnitsSpan);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        channel_ = new KeepMessages;
        logger_ = &Poco::Logger::get("test.logged");
        logger_->setChannel(channel_);
        logger_->setLevel(Poco::Message::PRIO_INFORMATION);
    }
    void tearDown() override { logger_->setChannel(nullptr); }

    const Poco::Message& message(std::size_t i) {
        CPPUNIT_ASSERT(i < channel_->messages.size());
        return channel_->messages[i];
    }

    void testWrapperLogsStartAndEnd() {
        int result =
            berth::logged(*logger_, berth::LogSpec("db", "visits", "load task", "loads one visit task"), [] {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                return 42;
            });
        CPPUNIT_ASSERT_EQUAL(42, result);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), channel_->messages.size());
        const Poco::Message& start = message(0);
        CPPUNIT_ASSERT_EQUAL(std::string("load task: start"), start.getText());
        CPPUNIT_ASSERT_EQUAL(Poco::Message::PRIO_INFORMATION, start.getPriority());
        CPPUNIT_ASSERT_EQUAL(std::string("db"), start.get("type"));
        CPPUNIT_ASSERT_EQUAL(std::string("visits"), start.get("category"));
        CPPUNIT_ASSERT_EQUAL(std::string("load task"), start.get("detail"));
        CPPUNIT_ASSERT_EQUAL(std::string("loads one visit task"), start.get("description"));
        CPPUNIT_ASSERT_EQUAL(std::string("start"), start.get("phase"));
        CPPUNIT_ASSERT(!start.has("outcome"));
        const Poco::Message& end = message(1);
        CPPUNIT_ASSERT_EQUAL(std::string("end"), end.get("phase"));
        CPPUNIT_ASSERT_EQUAL(std::string("ok"), end.get("outcome"));
        CPPUNIT_ASSERT(end.getText().rfind("load task: ok in ", 0) == 0);
        CPPUNIT_ASSERT_MESSAGE(end.get("duration_ms"),
                               std::stod(end.get("duration_ms")) >= 20.0);  // the sleep
        CPPUNIT_ASSERT(!end.has("error"));

        berth::logged(*logger_, berth::LogSpec("job", "visits", "no result"), [] {});  // void works too
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), channel_->messages.size());
    }

    void testWrapperLogsExceptionAndRethrows() {
        bool passedOn = false;
        try {
            berth::logged(*logger_, berth::LogSpec("http", "prices", "fetch prices"),
                          []() -> int { throw Boom(); });
        } catch (const Boom&) {
            passedOn = true;
        }
        CPPUNIT_ASSERT(passedOn);
        const Poco::Message& end = message(1);
        CPPUNIT_ASSERT_EQUAL(Poco::Message::PRIO_ERROR, end.getPriority());
        CPPUNIT_ASSERT_EQUAL(std::string("error"), end.get("outcome"));
        CPPUNIT_ASSERT_EQUAL(std::string("(anonymous namespace)::Boom"), end.get("error_type"));
        CPPUNIT_ASSERT_EQUAL(std::string("the price list is gone"), end.get("error"));
        CPPUNIT_ASSERT(end.getText().find("fetch prices: failed in ") == 0);
        CPPUNIT_ASSERT(end.getText().find("(anonymous namespace)::Boom: the price list is gone") !=
                       std::string::npos);
    }

    void testScopeAndLevel() {
        {
            berth::Logged scope(*logger_, berth::LogSpec("job", "sync", "sync hospitals")
                                              .level(Poco::Message::PRIO_DEBUG)
                                              .tracing(false));
        }
        CPPUNIT_ASSERT(channel_->messages.empty());  // below the logger's level: nothing built or written
        logger_->setLevel(Poco::Message::PRIO_DEBUG);
        {
            berth::Logged scope(
                *logger_, berth::LogSpec("job", "sync", "sync hospitals").level(Poco::Message::PRIO_DEBUG));
            scope.fail("berth::DbError", "SQLSTATE 40001");  // reported in place, no exception
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), channel_->messages.size());
        CPPUNIT_ASSERT_EQUAL(Poco::Message::PRIO_DEBUG, message(0).getPriority());
        CPPUNIT_ASSERT_EQUAL(Poco::Message::PRIO_ERROR, message(1).getPriority());
        CPPUNIT_ASSERT_EQUAL(std::string("berth::DbError"), message(1).get("error_type"));
    }

    void testScopeLeftByException() {
        try {
            berth::Logged scope(*logger_, berth::LogSpec("db", "visits", "save"));
            throw std::runtime_error("x");
        } catch (const std::runtime_error&) {
        }
        const Poco::Message& end = message(1);
        CPPUNIT_ASSERT_EQUAL(std::string("error"), end.get("outcome"));
        CPPUNIT_ASSERT_EQUAL(std::string("unknown"), end.get("error_type"));  // a destructor cannot see it
    }

    void testSpanOfItsOwn() {
        SpanFile file;
        berth::server::TraceContext request;
        request.traceLow = 0x48485a3953bb6124ull;
        request.spanId = 0x1111111111111111ull;
        request.sampled = true;
        {
            berth::server::CurrentSpanScope current(&request);
            try {
                berth::logged(*logger_, berth::LogSpec("db", "visits", "load task", "loads one"),
                              [] { throw Boom(); });
            } catch (const Boom&) {
            }
            berth::logged(*logger_, berth::LogSpec("db", "visits", "quiet").tracing(false), [] {});
        }
        auto spans = file.spans();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), spans.size());
        Poco::JSON::Object::Ptr span = spans[0];
        CPPUNIT_ASSERT_EQUAL(std::string(), berth::test::describeProblems(span, false));
        CPPUNIT_ASSERT_EQUAL(std::string("load task"), span->getValue<std::string>("name"));
        CPPUNIT_ASSERT_EQUAL(std::string("1111111111111111"), span->getValue<std::string>("parentId"));
        Poco::JSON::Object::Ptr tags = span->getObject("tags");
        CPPUNIT_ASSERT_EQUAL(std::string("db"), tags->getValue<std::string>("type"));
        CPPUNIT_ASSERT_EQUAL(std::string("visits"), tags->getValue<std::string>("category"));
        CPPUNIT_ASSERT_EQUAL(std::string("loads one"), tags->getValue<std::string>("description"));
        CPPUNIT_ASSERT_EQUAL(std::string("(anonymous namespace)::Boom: the price list is gone"),
                             tags->getValue<std::string>("error"));
    }

    void testStartAndEndNameTheUnitsSpan() {
        SpanFile file;
        berth::server::TraceContext request = berth::test::sampledRequest();
        {
            berth::server::CurrentSpanScope current(&request);
            berth::logged(*logger_, berth::LogSpec("job", "visits", "ok unit"), [] {});
            try {
                berth::logged(*logger_, berth::LogSpec("job", "visits", "failed unit"), [] { throw Boom(); });
            } catch (const Boom&) {
            }
            logger_->information("after the units");
        }
        std::vector<std::string> spans;  // in the order they finished: "ok unit", "failed unit"
        for (const auto& span : file.spans()) spans.push_back(span->getValue<std::string>("id"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), spans.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), channel_->spanIds.size());
        for (std::size_t unit = 0; unit < 2; ++unit) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(message(2 * unit).getText(), spans[unit],
                                         channel_->spanIds[2 * unit]);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(message(2 * unit + 1).getText(), spans[unit],
                                         channel_->spanIds[2 * unit + 1]);
        }
        // Once the unit is over, lines name the request's span again.
        CPPUNIT_ASSERT_EQUAL(std::string("1111111111111111"), channel_->spanIds[4]);
    }

  private:
    Poco::AutoPtr<KeepMessages> channel_;
    Poco::Logger* logger_ = nullptr;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LoggedTest);
