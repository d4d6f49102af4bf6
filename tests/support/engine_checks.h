#pragma once
// Assertions shared by the engine suites (tests/e2e/engine_*_test.cpp): berthd's JSON error
// envelope on a refusal, and time limits that report the measured value.

#include <cppunit/Asserter.h>
#include <cppunit/Message.h>
#include <cppunit/SourceLine.h>

#include <exception>
#include <string>

#include "http_probe.h"

namespace berth::test {

/// `r` is a refusal with HTTP status `status` and berthd's error envelope:
/// {"status":false,"code":<status>,"message":…,"error":…,"request_id":<the X-Request-Id header>}.
inline void assertErrorEnvelope(int status, const HttpResult& r, const std::string& context,
                                const CppUnit::SourceLine& line) {
    const std::string where = context.empty() ? r.describe() : context + "\n" + r.describe();
    CppUnit::Asserter::failIf(
        r.status != status,
        CppUnit::Message("unexpected HTTP status",
                         "expected " + std::to_string(status) + ", got " + std::to_string(r.status), where),
        line);
    Poco::JSON::Object::Ptr envelope;
    try {
        envelope = r.json();
    } catch (const std::exception& e) {
        CppUnit::Asserter::fail(CppUnit::Message("the refusal is not a JSON envelope", e.what(), where),
                                line);
    }
    bool ok = envelope->has("status") && envelope->has("code") && envelope->has("message") &&
              envelope->has("error") && envelope->has("request_id") && !envelope->getValue<bool>("status") &&
              envelope->getValue<int>("code") == status &&
              envelope->getValue<std::string>("request_id") == r.header("X-Request-Id");
    CppUnit::Asserter::failIf(!ok,
                              CppUnit::Message("not berthd's error envelope",
                                               "expected status false, code " + std::to_string(status) +
                                                   ", a message, an error and the X-Request-Id as request_id",
                                               where),
                              line);
}

inline void assertAtMost(double measuredMs, double limitMs, const std::string& what,
                         const CppUnit::SourceLine& line) {
    CppUnit::Asserter::failIf(
        measuredMs > limitMs,
        CppUnit::Message("too slow", what + " took " + std::to_string(measuredMs) + " ms; the limit is " +
                                         std::to_string(limitMs) + " ms"),
        line);
}

inline void assertAtLeast(double measuredMs, double limitMs, const std::string& what,
                          const CppUnit::SourceLine& line) {
    CppUnit::Asserter::failIf(
        measuredMs < limitMs,
        CppUnit::Message("too early", what + " took " + std::to_string(measuredMs) +
                                          " ms; expected at least " + std::to_string(limitMs) + " ms"),
        line);
}

}  // namespace berth::test

#define E2E_ASSERT_ENVELOPE(status, result) \
    ::berth::test::assertErrorEnvelope((status), (result), "", CPPUNIT_SOURCELINE())
#define E2E_ASSERT_ENVELOPE_MSG(status, result, context) \
    ::berth::test::assertErrorEnvelope((status), (result), (context), CPPUNIT_SOURCELINE())
#define E2E_ASSERT_AT_MOST_MS(measured, limit, what) \
    ::berth::test::assertAtMost((measured), (limit), (what), CPPUNIT_SOURCELINE())
#define E2E_ASSERT_AT_LEAST_MS(measured, limit, what) \
    ::berth::test::assertAtLeast((measured), (limit), (what), CPPUNIT_SOURCELINE())
