#include "request_id.h"

#include <chrono>
#include <cstdint>
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

void writeHex(char* out, std::uint64_t value) {
    static const char kHex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i, value >>= 4) out[i] = kHex[value & 0xF];
}

}  // namespace

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
