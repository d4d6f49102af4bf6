#include "scope_end_failure.h"

namespace berth::server {
namespace {

thread_local std::optional<ScopeEndFailure> recorded;

}  // namespace

void recordScopeEndFailure(ScopeEndFailure failure) {
    if (!recorded || recorded->requestId != failure.requestId) recorded = std::move(failure);
}

std::optional<ScopeEndFailure> takeScopeEndFailure() {
    std::optional<ScopeEndFailure> out = std::move(recorded);
    recorded.reset();
    return out;
}

}  // namespace berth::server
