#pragma once
// Open bugs that fuzzing found, for runs that look for new ones only: with BERTH_FUZZ_ALLOW_KNOWN
// set (FUZZ_SUPPRESS_KNOWN=1 fuzz/run) the harnesses stay away from them. Remove a use once its
// bug is fixed (README.md, "Known findings").
#include <cstdlib>
#include <string_view>

namespace berth::fuzz {

inline bool allowKnownBugs() {
    static const bool allow = std::getenv("BERTH_FUZZ_ALLOW_KNOWN") != nullptr;
    return allow;
}

/// Whether `text` holds a number that RapidJSON 1.1.0's full-precision strtod (Json::parse) may
/// get wrong: with an exponent or more than 15 digits, it leaves the exact fast path for code with
/// undefined behaviour (clz(0), shifts by 63, reads past its table of powers). Over-cautious.
inline bool hasSlowPathNumber(std::string_view text) {
    std::size_t digits = 0;
    bool exponent = false;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            ++digits;
        } else if ((c == 'e' || c == 'E') && digits > 0) {
            exponent = true;
        } else if (c != '.' && c != '-' && c != '+') {
            if (exponent || digits > 15) return true;
            digits = 0;
            exponent = false;
        }
    }
    return exponent || digits > 15;
}

}  // namespace berth::fuzz
