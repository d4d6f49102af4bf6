#pragma once
// JSON string escaping into a raw buffer, shared by Json::dump, the envelope writer and the
// access log. Not public: the SDK's appendJsonString is the public face.

#include <cstddef>
#include <string_view>

namespace berth::internal {

/// The most bytes writeJsonString can produce for `length` input bytes (quotes included).
constexpr std::size_t maxEscapedLength(std::size_t length) {
    return length * 6 + 2;
}

/// Writes `text` quoted and escaped at `out` (room for maxEscapedLength(text.size()) bytes);
/// returns the end. Bytes that are not valid UTF-8 become \ufffd.
char* writeJsonString(char* out, std::string_view text) noexcept;

}  // namespace berth::internal
