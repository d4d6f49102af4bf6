#pragma once
// The Zipkin v2 span schema (zipkin-api's zipkin2-api.yaml, Span) as a check for the tracing tests:
// what a collector would refuse, and what the tests require on top (every span has a kind when
// `requireKind`). Also parsing a POSTed batch (a JSON array), all a collector received, or a span
// file (JSON lines).

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace berth::test {

inline bool isLowerHex(const std::string& text, std::size_t length) {
    if (text.size() != length) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

/// What is wrong with `span` (empty: nothing).
inline std::vector<std::string> zipkinSpanProblems(const Poco::JSON::Object::Ptr& span,
                                                   bool requireKind = true) {
    std::vector<std::string> problems;
    auto text = [&](const std::string& key, bool required) -> std::string {
        if (!span->has(key)) {
            if (required) problems.push_back("no " + key);
            return "";
        }
        if (!span->get(key).isString()) {
            problems.push_back(key + " is not a string");
            return "";
        }
        return span->getValue<std::string>(key);
    };
    std::string traceId = text("traceId", true);
    if (span->has("traceId") && !isLowerHex(traceId, 16) && !isLowerHex(traceId, 32))
        problems.push_back("traceId '" + traceId + "' is not 16 or 32 lowercase hex digits");
    if (std::string id = text("id", true); span->has("id") && !isLowerHex(id, 16))
        problems.push_back("id '" + id + "' is not 16 lowercase hex digits");
    if (span->has("parentId"))
        if (std::string parent = text("parentId", false); !isLowerHex(parent, 16))
            problems.push_back("parentId '" + parent + "' is not 16 lowercase hex digits");
    if (span->has("name") && text("name", true).empty()) problems.push_back("empty name");
    if (!span->has("name")) problems.push_back("no name");
    // Epoch microseconds between 2020 and 2100; a duration of at least 1 µs.
    for (const char* key : {"timestamp", "duration"}) {
        if (!span->has(key)) {
            problems.push_back(std::string("no ") + key);
            continue;
        }
        Poco::Dynamic::Var value = span->get(key);
        if (!value.isInteger()) {
            problems.push_back(std::string(key) + " is not an integer");
            continue;
        }
        long long number = value.convert<long long>();
        if (std::string(key) == "timestamp" && (number < 1577836800000000LL || number > 4102444800000000LL))
            problems.push_back("timestamp " + std::to_string(number) +
                               " is not epoch microseconds of this century");
        if (std::string(key) == "duration" && number < 1) problems.push_back("duration below 1");
    }
    if (span->has("kind")) {
        static const std::set<std::string> kinds = {"CLIENT", "SERVER", "PRODUCER", "CONSUMER"};
        if (std::string kind = text("kind", false); kinds.count(kind) == 0)
            problems.push_back("kind '" + kind + "' is not one of CLIENT, SERVER, PRODUCER, CONSUMER");
    } else if (requireKind) {
        problems.push_back("no kind");
    }
    auto endpoint = [&](const std::string& key, bool required) {
        if (!span->has(key)) {
            if (required) problems.push_back("no " + key);
            return;
        }
        Poco::JSON::Object::Ptr object = span->getObject(key);
        if (!object) {
            problems.push_back(key + " is not an object");
            return;
        }
        if (!object->has("serviceName") || !object->get("serviceName").isString() ||
            object->getValue<std::string>("serviceName").empty())
            problems.push_back(key + " has no serviceName");
    };
    endpoint("localEndpoint", true);
    endpoint("remoteEndpoint", false);
    if (span->has("tags")) {
        Poco::JSON::Object::Ptr tags = span->getObject("tags");
        if (!tags)
            problems.push_back("tags is not an object");
        else
            for (const auto& [key, value] : *tags)
                if (!value.isString()) problems.push_back("tag " + key + " is not a string");
    }
    if (span->has("debug") && !span->get("debug").isBoolean()) problems.push_back("debug is not a boolean");
    static const std::set<std::string> known = {"traceId",        "id",        "parentId", "name",
                                                "kind",           "timestamp", "duration", "localEndpoint",
                                                "remoteEndpoint", "tags",      "debug",    "shared",
                                                "annotations"};
    for (const auto& [key, value] : *span)
        if (known.count(key) == 0) problems.push_back("unknown field " + key);
    return problems;
}

/// "problem; problem" with the span, for an assertion message; empty when valid.
inline std::string describeProblems(const Poco::JSON::Object::Ptr& span, bool requireKind = true) {
    std::string all;
    for (const std::string& problem : zipkinSpanProblems(span, requireKind)) all += problem + "; ";
    if (all.empty()) return all;
    std::ostringstream text;
    span->stringify(text);
    return all + "in " + text.str();
}

/// The spans of a POSTed batch (a JSON array); throws Poco::Exception when it is not one.
inline std::vector<Poco::JSON::Object::Ptr> parseBatch(const std::string& body) {
    Poco::JSON::Array::Ptr array = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
    std::vector<Poco::JSON::Object::Ptr> spans;
    for (std::size_t i = 0; i < array->size(); ++i)
        spans.push_back(array->getObject(static_cast<unsigned>(i)));
    return spans;
}

/// Every span of every batch a collector received, in order: `calls` is a LoopbackServer's
/// received() (any sequence of calls with a `body`).
template <class Calls>
std::vector<Poco::JSON::Object::Ptr> parseBatches(const Calls& calls) {
    std::vector<Poco::JSON::Object::Ptr> spans;
    for (const auto& call : calls)
        for (Poco::JSON::Object::Ptr& span : parseBatch(call.body)) spans.push_back(std::move(span));
    return spans;
}

/// The spans of a tracing.file (one JSON object per line).
inline std::vector<Poco::JSON::Object::Ptr> parseLines(const std::string& text) {
    std::vector<Poco::JSON::Object::Ptr> spans;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line))
        if (!line.empty())
            spans.push_back(Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>());
    return spans;
}

}  // namespace berth::test
