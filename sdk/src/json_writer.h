#pragma once
// Writing a Json value into a raw buffer sized once: appending piece by piece to a std::string
// (a capacity check and often a call per brace, comma and string) cost about twice as much for
// the small values handlers return. Not public; Json::dumpTo is the public face, and the
// envelope writer uses these to write its wrapper and the data with one resize.

#include <cstddef>

#include "berth/json.h"

namespace berth::internal {

/// The most bytes writeJson can produce for `value`.
std::size_t maxJsonLength(const Json& value) noexcept;

/// Writes `value` as compact JSON at `out` (room for maxJsonLength(value) bytes); returns the end.
char* writeJson(char* out, const Json& value) noexcept;

}  // namespace berth::internal
