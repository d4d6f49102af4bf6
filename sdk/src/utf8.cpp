#include "utf8.h"

namespace berth::internal {

std::size_t utf8SequenceLength(const unsigned char* s, std::size_t available) noexcept {
    unsigned char c = s[0];
    std::size_t length;
    unsigned int min;
    unsigned int cp;
    if (c >= 0xC2 && c <= 0xDF) {
        length = 2, min = 0x80, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        length = 3, min = 0x800, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (available < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return length;
}

bool isValidUtf8(std::string_view text) noexcept {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t i = 0;
    while (i < text.size()) {
        if (s[i] < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = utf8SequenceLength(s + i, text.size() - i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

}  // namespace berth::internal
