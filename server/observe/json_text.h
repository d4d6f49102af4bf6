#pragma once
// Pieces of JSON text written straight into a buffer with room reserved beforehand, for the
// writers that run once per request (the access log, the span encoder): no stream, no
// allocation, and the usual case (text that needs no escaping) copied 8 bytes at a time.

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "json_escape.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace berth::server::json_text {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;

/// At most 20 digits.
inline char* writeNumber(char* out, unsigned long long value) noexcept {
    return std::to_chars(out, out + 24, value).ptr;
}

template <std::size_t N>
char* writeLiteral(char* out, const char (&text)[N]) noexcept {
    std::memcpy(out, text, N - 1);
    return out + N - 1;
}

// "000" to "999": milliseconds, their fraction and status codes with one 4-byte store each.
struct ThreeDigitTable {
    char text[1000][4];
    constexpr ThreeDigitTable() : text() {
        for (unsigned i = 0; i < 1000; ++i) {
            text[i][0] = static_cast<char>('0' + i / 100);
            text[i][1] = static_cast<char>('0' + i / 10 % 10);
            text[i][2] = static_cast<char>('0' + i % 10);
        }
    }
};
inline constexpr ThreeDigitTable kThreeDigits;

/// `value` < 1000, as three digits. Stores one byte more than it keeps.
inline char* writeThreeDigits(char* out, unsigned value) noexcept {
    std::memcpy(out, kThreeDigits.text[value], 4);
    return out + 3;
}

// 0 to 999 without leading zeros, the digit count in the fourth byte: byte counts, durations
// and milliseconds are mostly this small, and then cost one 4-byte store instead of a to_chars call.
struct ShortNumberTable {
    char text[1000][4];
    constexpr ShortNumberTable() : text() {
        for (unsigned i = 0; i < 1000; ++i) {
            unsigned n = 0;
            if (i >= 100) text[i][n++] = static_cast<char>('0' + i / 100);
            if (i >= 10) text[i][n++] = static_cast<char>('0' + i / 10 % 10);
            text[i][n++] = static_cast<char>('0' + i % 10);
            text[i][3] = static_cast<char>(n);
        }
    }
};
inline constexpr ShortNumberTable kShortNumbers;

/// `value` in decimal, like writeNumber; needs 24 bytes of room (stores 4 bytes for small ones).
inline char* writeUnsigned(char* out, unsigned long long value) noexcept {
    if (value >= 1000) return writeNumber(out, value);
    std::memcpy(out, kShortNumbers.text[value], 4);
    return out + kShortNumbers.text[value][3];
}

/// Non-zero high bits when some byte of `word` would need escaping or checking in a JSON string:
/// below 0x23 (controls, space, '!', '"'), 0x80 or above, or '\\'. Exact for "any byte" (the
/// borrow of a subtraction only runs on from a byte that is already flagged), and it rejects a
/// few harmless bytes too (space, '!'), which only sends them the slow way.
inline std::uint64_t unsafeBytes(std::uint64_t word) noexcept {
    std::uint64_t backslash = word ^ (kOnes * '\\');
    return (word - kOnes * 0x23) | word | ((backslash - kOnes) & ~backslash);
}

/// Writes `text` quoted and escaped, exactly as internal::writeJsonString does, for text that
/// seldom needs escaping (request ids, trace ids, paths): the bytes are copied while one check
/// collects over all of them (16 at a time with SSE2, two overlapping words of 8 below 16), with one
/// branch at the end; text that needs escaping after all is written again by writeJsonString.
/// Needs maxEscapedLength(text.size()) + 8 bytes of room, and reads only `text`.
// Always inlined: it runs a few times per request line, and a call costs a tenth of it.
__attribute__((always_inline)) inline char* writeQuoted(char* out, std::string_view text) noexcept {
    char* const start = out;
    const char* s = text.data();
    const std::size_t n = text.size();
    *out++ = '"';
    bool unsafe;
#if defined(__SSE2__)
    if (n >= 8) {
        // Controls and bytes >= 0x80 are both below 0x20 as signed bytes; then '"' and '\\'.
        const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                      backslash = _mm_set1_epi8('\\');
        auto flags = [&](__m128i v) {
            return _mm_or_si128(_mm_cmplt_epi8(v, space),
                                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        };
        __m128i flagged;
        if (n < 16) {  // two overlapping words, checked as one vector
            std::uint64_t first, last;
            std::memcpy(&first, s, 8);
            std::memcpy(&last, s + n - 8, 8);
            std::memcpy(out, &first, 8);
            std::memcpy(out + n - 8, &last, 8);
            flagged = flags(_mm_set_epi64x(static_cast<long long>(last), static_cast<long long>(first)));
        } else {
            auto check = [&](std::size_t at) {
                const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + at));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(out + at), v);
                return flags(v);
            };
            // The last 16 bytes are checked again, overlapping (which rewrites the same bytes): up
            // to 32 (a generated id) that is the whole loop.
            flagged = check(0);
            if (n > 32) {
                for (std::size_t i = 16; i + 16 <= n; i += 16) flagged = _mm_or_si128(flagged, check(i));
                if (n % 16 != 0) flagged = _mm_or_si128(flagged, check(n - 16));
            } else if (n > 16) {
                flagged = _mm_or_si128(flagged, check(n - 16));
            }
        }
        unsafe = _mm_movemask_epi8(flagged) != 0;
    } else
#endif
    {
        std::uint64_t flagged = 0;
        if (n >= 8) {  // two overlapping words
            std::uint64_t first, last;
            std::memcpy(&first, s, 8);
            std::memcpy(&last, s + n - 8, 8);
            std::memcpy(out, &first, 8);
            std::memcpy(out + n - 8, &last, 8);
            flagged = unsafeBytes(first) | unsafeBytes(last);
            for (std::size_t i = 8; i + 8 < n; i += 8) {  // only without SSE2: n may reach 16+
                std::uint64_t word;
                std::memcpy(&word, s + i, 8);
                std::memcpy(out + i, &word, 8);
                flagged |= unsafeBytes(word);
            }
        } else {
            std::uint64_t word = kOnes * 'a';  // padded with a safe letter
            for (std::size_t i = 0; i < n; ++i) reinterpret_cast<char*>(&word)[i] = s[i];
            std::memcpy(out, &word, 8);
            flagged = unsafeBytes(word);
        }
        unsafe = (flagged & kHighs) != 0;
    }
    if (unsafe) return internal::writeJsonString(start, text);
    out += n;
    *out++ = '"';
    return out;
}

}  // namespace berth::server::json_text
