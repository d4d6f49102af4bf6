#pragma once
// X-Request-Id: keep a caller's id when it is safe to log and echo, else make one. Also the
// random ids and hex digits that trace and span ids are made of (trace/), so they are inline.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace berth::server {

/// 1–128 characters of [A-Za-z0-9._:-]: nothing that could split a log line or a header.
bool isSaneRequestId(std::string_view id) noexcept;

/// 32 hex characters from a per-thread splitmix64 stream (a UUID costs ~20× more and three
/// syscalls, and nothing needs these ids to be unguessable). With `bits`, also the two random
/// values whose hex the id is (bits[0] first): a new trace takes them as its id (trace/).
void generateRequestId(std::string& out, std::uint64_t* bits = nullptr);

namespace detail {
// Constant-initialised (0: not seeded yet), so an access needs no initialisation guard.
inline thread_local std::uint64_t randomState = 0;
/// A seed from std::random_device, the clock and the thread id; never 0.
std::uint64_t seedRandom() noexcept;
}  // namespace detail

/// The next value of this thread's splitmix64 stream (request ids, trace and span ids).
inline std::uint64_t randomU64() noexcept {
    std::uint64_t& state = detail::randomState;
    if (__builtin_expect(state == 0, 0)) state = detail::seedRandom();
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "writeHex assumes a little-endian machine"
#endif

/// The 16 lowercase hex digits of `value`, most significant first: every nibble is spread into a
/// byte of its own and turned into '0'-'9' or 'a'-'f' for all sixteen at once (SSE2: ~10
/// instructions; a digit at a time was ~130).
inline void writeHex(char* out, std::uint64_t value) noexcept {
#if defined(__SSE2__)
    const __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(value)));
    const __m128i low4 = _mm_set1_epi8(0x0f);
    const __m128i nibbles =
        _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), low4), _mm_and_si128(bytes, low4));
    const __m128i letters =
        _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                     _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters));
#else
    for (int half = 0; half < 2; ++half) {
        std::uint64_t x = static_cast<std::uint32_t>(value >> (32 - 32 * half));
        x = ((x & 0xFFFF0000ull) << 16) | (x & 0xFFFFull);
        x = ((x & 0x0000FF000000FF00ull) << 8) | (x & 0x000000FF000000FFull);
        x = ((x & 0x00F000F000F000F0ull) << 4) | (x & 0x000F000F000F000Full);
        const std::uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
        x += 0x3030303030303030ull + letters * ('a' - '0' - 10);
        x = __builtin_bswap64(x);
        std::memcpy(out + 8 * half, &x, 8);
    }
#endif
}

}  // namespace berth::server
