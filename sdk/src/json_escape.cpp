#include "json_escape.h"

#include "utf8.h"

#include <cstdint>
#include <cstring>

namespace berth::internal {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;

// True when any of the 8 bytes needs attention: a control byte, '"', '\\' or a non-ASCII byte.
// Exact for "any" (the classic has-zero-byte trick), so a clean word is copied in one go.
bool wordNeedsWork(std::uint64_t word) noexcept {
    std::uint64_t quote = word ^ (kOnes * '"');
    std::uint64_t backslash = word ^ (kOnes * '\\');
    std::uint64_t found = (word - kOnes * 0x20) & ~word;
    found |= (quote - kOnes) & ~quote;
    found |= (backslash - kOnes) & ~backslash;
    return ((found | word) & kHighs) != 0;
}

}  // namespace

char* writeJsonString(char* out, std::string_view text) noexcept {
    static const char kHex[] = "0123456789abcdef";
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    *out++ = '"';
    std::size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            std::uint64_t word;
            std::memcpy(&word, s + i, 8);
            if (!wordNeedsWork(word)) {
                std::memcpy(out, s + i, 8);
                out += 8;
                i += 8;
                continue;
            }
        } else if (n - i >= 2) {
            // A tail of 2-7 bytes, checked as one word padded with a harmless letter. Storing
            // all 8 bytes is safe: the caller's room (6 bytes per input byte + 2) leaves at
            // least 6 per remaining byte + 1, which is 13 or more here.
            std::size_t rest = n - i;
            std::uint64_t word = kOnes * 'a';
            std::memcpy(&word, s + i, rest);
            if (!wordNeedsWork(word)) {
                std::memcpy(out, &word, 8);
                out += rest;
                break;
            }
        }
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            *out++ = static_cast<char>(c);
            ++i;
            continue;
        }
        if (c >= 0x80) {
            std::size_t length = utf8SequenceLength(s + i, n - i);
            if (length != 0) {
                std::memcpy(out, s + i, length);
                out += length;
                i += length;
                continue;
            }
            // A byte that is not valid UTF-8 must not reach the client raw.
            std::memcpy(out, "\\ufffd", 6);
            out += 6;
            ++i;
            continue;
        }
        *out++ = '\\';
        switch (c) {
            case '"':
                *out++ = '"';
                break;
            case '\\':
                *out++ = '\\';
                break;
            case '\n':
                *out++ = 'n';
                break;
            case '\r':
                *out++ = 'r';
                break;
            case '\t':
                *out++ = 't';
                break;
            case '\b':
                *out++ = 'b';
                break;
            case '\f':
                *out++ = 'f';
                break;
            default:
                *out++ = 'u';
                *out++ = '0';
                *out++ = '0';
                *out++ = kHex[c >> 4];
                *out++ = kHex[c & 0xF];
        }
        ++i;
    }
    *out++ = '"';
    return out;
}

}  // namespace berth::internal
