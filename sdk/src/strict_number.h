#pragma once
// Integers from configuration text, strictly: Poco's NumberParser skips ',' anywhere as a
// thousands separator, so "80,80" would quietly become 8080.

#include <cstdint>
#include <string_view>

namespace berth::internal {

/// Decimal ("-12", "+42") and nothing else around it; false otherwise (including overflow).
bool parseStrictInt64(std::string_view text, std::int64_t& out) noexcept;

}  // namespace berth::internal
