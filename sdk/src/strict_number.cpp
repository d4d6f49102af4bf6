#include "strict_number.h"

#include <charconv>

namespace berth::internal {

bool parseStrictInt64(std::string_view text, std::int64_t& out) noexcept {
    bool negative = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text.empty() || text[0] == '-' || text[0] == '+') return false;
    std::uint64_t magnitude = 0;
    auto result = std::from_chars(text.data(), text.data() + text.size(), magnitude);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return false;
    if (negative) {
        if (magnitude > static_cast<std::uint64_t>(INT64_MAX) + 1) return false;
        out = static_cast<std::int64_t>(0 - magnitude);
    } else {
        if (magnitude > static_cast<std::uint64_t>(INT64_MAX)) return false;
        out = static_cast<std::int64_t>(magnitude);
    }
    return true;
}

}  // namespace berth::internal
