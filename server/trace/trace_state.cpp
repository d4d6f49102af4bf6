#include "trace_state.h"

namespace berth::server {
namespace {

bool isTraceStateName(std::string_view name) noexcept {
    static constexpr std::string_view kName = "tracestate";
    if (name.size() != kName.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if ((name[i] | 0x20) != kName[i]) return false;  // a token: folding with 0x20 is exact
    return true;
}

}  // namespace

std::string passedTraceState(const TraceHeaderViews& noted, const std::vector<Header>& headers) {
    // W3C: without a traceparent we continue, tracestate means nothing.
    if (noted.traceparent.empty() || extractTrace(noted).format != TraceFormat::Traceparent) return {};
    std::string list;
    bool any = false;
    for (const Header& header : headers) {
        if (!isTraceStateName(header.name)) continue;
        if (any) list += ',';
        list.append(header.value.data(), header.value.size());
        any = true;
    }
    if (!isValidTraceState(list)) return {};
    // Only blanks and commas (empty members): W3C asks not to send such a list on.
    if (list.find_first_not_of(" \t,") == std::string::npos) return {};
    return list;
}

}  // namespace berth::server
