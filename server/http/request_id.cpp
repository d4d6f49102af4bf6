#include "request_id.h"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>

namespace berth::server {
namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint64_t seed() {
    std::random_device device;
    std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    value ^= static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    value ^= std::hash<std::thread::id>()(std::this_thread::get_id());
    return value;
}

// Eight hex digits at once: each nibble is spread into its own byte, then turned into '0'-'9' or
// 'a'-'f' by arithmetic on all eight bytes together. A digit at a time was ~130 instructions per id.
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "writeHex32 assumes a little-endian machine"
#endif
void writeHex32(char* out, std::uint32_t value) noexcept {
    std::uint64_t x = value;
    x = ((x & 0xFFFF0000ull) << 16) | (x & 0xFFFFull);
    x = ((x & 0x0000FF000000FF00ull) << 8) | (x & 0x000000FF000000FFull);
    x = ((x & 0x00F000F000F000F0ull) << 4) | (x & 0x000F000F000F000Full);
    const std::uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
    x += 0x3030303030303030ull + letters * ('a' - '0' - 10);
    x = __builtin_bswap64(x);  // the most significant digit first, on this little-endian machine
    std::memcpy(out, &x, 8);
}

}  // namespace

void writeHex(char* out, std::uint64_t value) noexcept {
    writeHex32(out, static_cast<std::uint32_t>(value >> 32));
    writeHex32(out + 8, static_cast<std::uint32_t>(value));
}

bool isSaneRequestId(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

void generateRequestId(std::string& out) {
    thread_local std::uint64_t state = seed();
    char id[32];
    writeHex(id, splitmix64(state));
    writeHex(id + 16, splitmix64(state));
    out.assign(id, sizeof id);
}

}  // namespace berth::server
