// libFuzzer harness: Json::parse on arbitrary bytes. Whatever parses must hold finite numbers
// only (out-of-range ones are refused), must dump to text that parses again to exactly the same
// value, types included (parse(dump(x)) == x: the double 1.0 dumps as "1.0", -0.0 as "-0.0"),
// and that text must be a fixed point of parse and dump. A number on its own must read as
// strtod/strtoll read it.
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "berth/json.h"

using berth::Json;

namespace {

[[noreturn]] void violated(const char* what, const std::string& a, const std::string& b) {
    std::fprintf(stderr, "\n*** fuzz_json: %s\n  first:  %.500s\n  second: %.500s\n", what, a.c_str(),
                 b.c_str());
    std::abort();
}

bool hasNonFinite(const Json& value) {
    switch (value.type()) {
        case Json::Type::Double:
            return !std::isfinite(value.asDouble());
        case Json::Type::Array:
            for (const Json& item : value.asArray())
                if (hasNonFinite(item)) return true;
            return false;
        case Json::Type::Object:
            for (const Json::Member& member : value.asObject())
                if (hasNonFinite(member.second)) return true;
            return false;
        default:
            return false;
    }
}

/// Equal, and doubles with the same sign too (== holds for 0.0 and -0.0).
bool identical(const Json& a, const Json& b) {
    if (!(a == b)) return false;
    switch (a.type()) {
        case Json::Type::Double:
            return std::signbit(a.asDouble()) == std::signbit(b.asDouble());
        case Json::Type::Array:
            for (std::size_t i = 0; i < a.size(); ++i)
                if (!identical(a.at(i), b.at(i))) return false;
            return true;
        case Json::Type::Object:
            for (std::size_t i = 0; i < a.asObject().size(); ++i)
                if (!identical(a.asObject()[i].second, b.asObject()[i].second)) return false;
            return true;
        default:
            return true;
    }
}

Json reparse(const std::string& text) {
    try {
        return Json::parse(text);
    } catch (const berth::JsonError& e) {
        violated("Json::dump wrote text Json::parse refuses", text, e.what());
    }
}

/// A number alone (JSON whitespace around it) must be what the C library reads: an integer
/// that fits in int64 as strtoll, anything else as strtod (glibc rounds correctly).
void checkScalarNumber(std::string_view text, const Json& value) {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!text.empty() && space(text.front())) text.remove_prefix(1);
    while (!text.empty() && space(text.back())) text.remove_suffix(1);
    const std::string number(text);
    char* end = nullptr;
    if (value.isInt()) {
        errno = 0;
        long long expected = std::strtoll(number.c_str(), &end, 10);
        if (errno != 0 || end != number.c_str() + number.size() || expected != value.asInt())
            violated("an integer that strtoll reads differently", number, value.dump());
        return;
    }
    const double expected = std::strtod(number.c_str(), &end);
    const double actual = value.asDouble();
    if (end != number.c_str() + number.size() || std::memcmp(&expected, &actual, sizeof expected) != 0)
        violated("a number that strtod reads differently", number, value.dump());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    Json first;
    try {
        first = Json::parse(text);
    } catch (const berth::JsonError&) {
        return 0;
    }
    if (hasNonFinite(first))
        violated("Json::parse gave a non-finite number", std::string(text), first.dump());
    if (first.isNumber()) checkScalarNumber(text, first);
    const std::string dumped = first.dump();
    Json second = reparse(dumped);
    if (!identical(second, first)) violated("parse(dump(x)) differs from x", dumped, second.dump());
    const std::string again = second.dump();
    if (again != dumped) violated("dump(parse(dump(x))) differs from dump(x)", dumped, again);
    // The copy and the comparison of a whole tree, and the typed reads, on what was parsed.
    Json copy = first;
    if (!identical(copy, first)) violated("a copy differs", dumped, copy.dump());
    if (first.isObject())
        for (const Json::Member& member : first.asObject()) (void)first[member.first];
    return 0;
}
