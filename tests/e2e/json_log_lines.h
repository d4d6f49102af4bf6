#pragma once
// What the logging suites share: the shipped conf/logging.properties with its file channel moved
// into the test's folder, and the JSON lines berthd wrote there, read back and looked up.

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/TestAssert.h>

#include <sstream>
#include <string>
#include <vector>

#include "berthd_process.h"

namespace berth::test {

/// conf/logging.properties as shipped, with its file channel pointed at `path`.
inline std::string shippedLoggingWithPath(const std::string& path) {
    static const std::string kShippedPath = "logging.channels.file.path = ../logs/berth.log";
    std::string text = readFile(std::string(BERTH_SOURCE_DIR) + "/conf/logging.properties");
    std::size_t at = text.find(kShippedPath);
    CPPUNIT_ASSERT_MESSAGE("conf/logging.properties no longer has: " + kShippedPath, at != std::string::npos);
    return text.replace(at, kShippedPath.size(), "logging.channels.file.path = " + path);
}

/// Every line of the file as a JSON object; fails on a line that is not one.
inline std::vector<Poco::JSON::Object::Ptr> jsonLines(const std::string& file) {
    std::vector<Poco::JSON::Object::Ptr> objects;
    std::istringstream lines(readFile(file));
    std::string line;
    while (std::getline(lines, line)) {
        Poco::JSON::Parser parser;
        try {
            objects.push_back(parser.parse(line).extract<Poco::JSON::Object::Ptr>());
        } catch (const Poco::Exception& e) {
            CPPUNIT_FAIL(file + ": not a JSON object (" + e.displayText() + "): " + line);
        }
    }
    return objects;
}

/// The field as text, or "<absent>".
inline std::string text(const Poco::JSON::Object::Ptr& object, const std::string& key) {
    return object->has(key) ? object->getValue<std::string>(key) : std::string("<absent>");
}

inline std::string describe(const Poco::JSON::Object::Ptr& object) {
    std::ostringstream out;
    object->stringify(out);
    return out.str();
}

/// The one line whose `key` is `value`; fails unless there is exactly one.
inline Poco::JSON::Object::Ptr lineWith(const std::vector<Poco::JSON::Object::Ptr>& lines,
                                        const std::string& key, const std::string& value,
                                        const std::string& file) {
    Poco::JSON::Object::Ptr found;
    int count = 0;
    for (const auto& line : lines)
        if (text(line, key) == value) {
            found = line;
            ++count;
        }
    CPPUNIT_ASSERT_EQUAL_MESSAGE(key + " = " + value + " in " + file + ":\n" + readFile(file), 1, count);
    return found;
}

inline bool isHex(const std::string& id, std::size_t size) {
    return id.size() == size && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace berth::test
