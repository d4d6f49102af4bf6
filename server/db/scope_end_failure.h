#pragma once
// A DbTransaction that fails to commit at the end of its scope cannot throw (its destructor is
// noexcept, and it may run while the handler builds a reply that no longer tells the truth). The
// host session records the failure here, for the thread that runs the handler; the HTTP pipeline
// takes it after the handler returns and answers with it instead of the handler's reply.

#include <optional>
#include <string>

namespace berth::server {

struct ScopeEndFailure {
    int status = 500;  // HTTP status for the envelope
    int code = 500;
    std::string message;    // for the client ("internal server error", "database unavailable")
    std::string requestId;  // of the request whose transaction failed
};

/// Records a failure for this thread (the first one of a request wins).
void recordScopeEndFailure(ScopeEndFailure failure);
/// Takes (and clears) this thread's recorded failure.
std::optional<ScopeEndFailure> takeScopeEndFailure();

}  // namespace berth::server
