#pragma once
// Assertions the end-to-end suites share. Each macro reports the caller's file and line, and
// its message carries the text searched or the whole HTTP answer, so that a failure in CI
// explains itself without a rerun.

#include <cppunit/Asserter.h>
#include <cppunit/Message.h>
#include <cppunit/SourceLine.h>
#include <cppunit/TestAssert.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "http_probe.h"

namespace berth::test {

inline void assertContains(const std::string& haystack, const std::string& needle, const std::string& what,
                           const CppUnit::SourceLine& line) {
    CppUnit::Asserter::failIf(
        haystack.find(needle) == std::string::npos,
        CppUnit::Message("expected text missing", "expected " + what + " to contain: " + needle,
                         "actual " + what + ":\n" + haystack),
        line);
}

inline void assertNotContains(const std::string& haystack, const std::string& needle, const std::string& what,
                              const CppUnit::SourceLine& line) {
    CppUnit::Asserter::failIf(
        haystack.find(needle) != std::string::npos,
        CppUnit::Message("unexpected text present", "expected " + what + " NOT to contain: " + needle,
                         "actual " + what + ":\n" + haystack),
        line);
}

/// True when one line of `text` contains every needle.
inline bool hasLineWithAll(const std::string& text, const std::vector<std::string>& needles) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        bool all = true;
        for (const std::string& needle : needles) all = all && line.find(needle) != std::string::npos;
        if (all) return true;
    }
    return false;
}

inline void assertLineWithAll(const std::string& text, const std::vector<std::string>& needles,
                              const std::string& what, const CppUnit::SourceLine& line) {
    std::string wanted;
    for (const std::string& needle : needles) wanted += "\n    [" + needle + "]";
    CppUnit::Asserter::failIf(
        !hasLineWithAll(text, needles),
        CppUnit::Message("no matching line", "expected one line of " + what + " to contain all of:" + wanted,
                         "actual " + what + ":\n" + text),
        line);
}

inline void assertStatus(int expected, const HttpResult& result, const CppUnit::SourceLine& line) {
    CppUnit::Asserter::failIf(
        result.status != expected,
        CppUnit::Message("unexpected HTTP status",
                         "expected " + std::to_string(expected) + ", got " + std::to_string(result.status),
                         "answer:\n" + result.describe()),
        line);
}

/// The object's member names are exactly `names`.
inline void assertKeys(const Poco::JSON::Object::Ptr& object, std::set<std::string> names,
                       const std::string& what, const CppUnit::SourceLine& line) {
    std::vector<std::string> actual;
    object->getNames(actual);
    std::set<std::string> got(actual.begin(), actual.end());
    std::string expectedText, actualText;
    for (const std::string& name : names) expectedText += " " + name;
    for (const std::string& name : got) actualText += " " + name;
    CppUnit::Asserter::failIf(
        got != names,
        CppUnit::Message("unexpected JSON members", "expected " + what + " members:" + expectedText,
                         "actual members:" + actualText),
        line);
}

/// GET /health answers 200 with data {"status":"up"}: the host survived whatever came before.
inline void assertHealthy(int port, const CppUnit::SourceLine& line) {
    HttpResult health;
    try {
        health = HttpProbe(port).get("/health");
    } catch (const std::exception& e) {
        CppUnit::Asserter::fail(CppUnit::Message("berthd no longer answers", e.what()), line);
    }
    assertStatus(200, health, line);
    CppUnit::Asserter::failIf(
        health.body != R"({"status":true,"code":0,"message":"ok","data":{"status":"up"}})",
        CppUnit::Message("unexpected /health body", health.describe()), line);
}

}  // namespace berth::test

#define E2E_ASSERT_CONTAINS(haystack, needle) \
    ::berth::test::assertContains((haystack), (needle), #haystack, CPPUNIT_SOURCELINE())
#define E2E_ASSERT_NOT_CONTAINS(haystack, needle) \
    ::berth::test::assertNotContains((haystack), (needle), #haystack, CPPUNIT_SOURCELINE())
#define E2E_ASSERT_LINE_WITH(text, ...)                                                    \
    ::berth::test::assertLineWithAll((text), std::vector<std::string>{__VA_ARGS__}, #text, \
                                     CPPUNIT_SOURCELINE())
#define E2E_ASSERT_STATUS(expected, result) \
    ::berth::test::assertStatus((expected), (result), CPPUNIT_SOURCELINE())
#define E2E_ASSERT_KEYS(object, ...) \
    ::berth::test::assertKeys((object), {__VA_ARGS__}, #object, CPPUNIT_SOURCELINE())
#define E2E_ASSERT_HEALTHY(port) ::berth::test::assertHealthy((port), CPPUNIT_SOURCELINE())
