#include "request_id.h"

#include <chrono>
#include <random>
#include <thread>

namespace berth::server {

std::uint64_t detail::seedRandom() noexcept {
    std::uint64_t value =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    value ^= std::hash<std::thread::id>()(std::this_thread::get_id());
    try {
        std::random_device device;
        value ^= (static_cast<std::uint64_t>(device()) << 32) ^ device();
    } catch (...) {
        // No entropy source: the clock and the thread id still make the streams differ.
    }
    return value != 0 ? value : 0x9E3779B97F4A7C15ull;
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

void generateRequestId(std::string& out, std::uint64_t* bits) {
    const std::uint64_t high = randomU64();
    const std::uint64_t low = randomU64();
    char id[32];
    writeHex(id, high);
    writeHex(id + 16, low);
    out.assign(id, sizeof id);
    if (bits != nullptr) {
        bits[0] = high;
        bits[1] = low;
    }
}

}  // namespace berth::server
