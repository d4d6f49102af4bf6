// libFuzzer harness: Json::parse on arbitrary bytes; whatever parses must dump to text that
// parses again to the same value (numbers compared by value: Json::dump writes the double 1.0
// as 1 and -0.0 as -0, which parse as the int 1 and 0), and after that one round trip parse and
// dump must be exact inverses.
//
// Built with BERTH_FUZZ_STRICT (fuzz_json_strict) the round trip must keep the types too,
// parse(dump(x)) == x, which does not hold today (see README.md).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "berth/json.h"
#include "known_bugs.h"

using berth::Json;

namespace {

#ifdef BERTH_FUZZ_STRICT
constexpr bool kStrict = true;
#else
constexpr bool kStrict = false;
#endif

[[noreturn]] void violated(const char* what, const std::string& a, const std::string& b) {
    std::fprintf(stderr, "\n*** fuzz_json: %s\n  first:  %.500s\n  second: %.500s\n", what, a.c_str(),
                 b.c_str());
    std::abort();
}

/// Equal, with an int and a double equal when they are the same number.
bool sameValue(const Json& a, const Json& b) {
    if (a.isNumber() && b.isNumber()) {
        if (a.isInt() && b.isInt()) return a.asInt() == b.asInt();
        if (!a.isInt() && !b.isInt()) return a.asDouble() == b.asDouble();
        const Json& i = a.isInt() ? a : b;
        const Json& d = a.isInt() ? b : a;
        return static_cast<double>(i.asInt()) == d.asDouble();
    }
    if (a.type() != b.type()) return false;
    switch (a.type()) {
        case Json::Type::Array: {
            if (a.size() != b.size()) return false;
            for (std::size_t i = 0; i < a.size(); ++i)
                if (!sameValue(a.at(i), b.at(i))) return false;
            return true;
        }
        case Json::Type::Object: {
            const Json::Object& x = a.asObject();
            const Json::Object& y = b.asObject();
            if (x.size() != y.size()) return false;
            for (std::size_t i = 0; i < x.size(); ++i)
                if (x[i].first != y[i].first || !sameValue(x[i].second, y[i].second)) return false;
            return true;
        }
        default:
            return a == b;
    }
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

Json reparse(const std::string& text) {
    try {
        return Json::parse(text);
    } catch (const berth::JsonError& e) {
        violated("Json::dump wrote text Json::parse refuses", text, e.what());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    if (berth::fuzz::allowKnownBugs() && berth::fuzz::hasSlowPathNumber(text)) return 0;
    Json first;
    try {
        first = Json::parse(text);
    } catch (const berth::JsonError&) {
        return 0;
    }
    if (hasNonFinite(first)) {
        // Known (README.md, "Known findings"): numbers just over DBL_MAX parse as inf or NaN
        // instead of being refused; Json::dump writes them as null, so no round trip holds.
        if (!berth::fuzz::allowKnownBugs())
            violated("Json::parse gave a non-finite number", std::string(text), first.dump());
        return 0;
    }
    const std::string dumped = first.dump();
    Json second = reparse(dumped);
    if (kStrict ? !(second == first) : !sameValue(first, second))
        violated("parse(dump(x)) differs from x", dumped, second.dump());
    // Without the types, one round trip may turn 1.0 into 1 and -0.0 into 0; after that the text
    // must be a fixed point (strict: from the start).
    const std::string again = second.dump();
    if (kStrict && again != dumped) violated("dump(parse(dump(x))) differs from dump(x)", dumped, again);
    Json third = reparse(again);
    if (!(third == second) || third.dump() != again)
        violated("parse and dump are not a fixed point after one round trip", again, third.dump());
    // The copy and the comparison of a whole tree, and the typed reads, on what was parsed.
    Json copy = first;
    if (!(copy == first)) violated("a copy differs", dumped, copy.dump());
    if (first.isObject())
        for (const Json::Member& member : first.asObject()) (void)first[member.first];
    return 0;
}
