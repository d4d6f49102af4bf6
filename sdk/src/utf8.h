#pragma once
// UTF-8 validation for the JSON writer and reader (not public).

#include <cstddef>
#include <string_view>

namespace berth::internal {

/// Length of the valid UTF-8 sequence starting at s (s[0] >= 0x80), or 0 when it is invalid:
/// overlong, surrogate, above U+10FFFF, or truncated.
std::size_t utf8SequenceLength(const unsigned char* s, std::size_t available) noexcept;

bool isValidUtf8(std::string_view text) noexcept;

}  // namespace berth::internal
