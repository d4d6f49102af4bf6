#pragma once
// Shared by the SDK (query parameters) and the host's router (path segments); not public.

#include <string>
#include <string_view>

namespace berth::internal {

/// Appends the percent-decoded `text` to `out`. Returns false for a broken escape ("%4", "%zz")
/// or an encoded NUL, which no path or query value may carry.
bool percentDecode(std::string_view text, std::string& out, bool plusIsSpace);

}  // namespace berth::internal
