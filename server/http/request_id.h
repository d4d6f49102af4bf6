#pragma once
// X-Request-Id: keep a caller's id when it is safe to log and echo, else make one.

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::server {

/// 1–128 characters of [A-Za-z0-9._:-]: nothing that could split a log line or a header.
bool isSaneRequestId(std::string_view id) noexcept;

/// 32 hex characters from a per-thread splitmix64 stream (a UUID costs ~20× more and three
/// syscalls, and nothing needs these ids to be unguessable).
void generateRequestId(std::string& out);

/// The 16 lowercase hex digits of `value`, most significant first (used by generateRequestId).
void writeHex(char* out, std::uint64_t value) noexcept;

}  // namespace berth::server
