#pragma once
// The host's side of berth::Request: the transport fills it, the pipeline adds the request id
// and path parameters, plugins read it through the SDK's const accessors.

#include <string>
#include <string_view>
#include <vector>

#include "../trace/request_tracer.h"
#include "berth/request.h"
#include "route_pattern.h"

namespace berth::server {

class HostRequest : public Request {
  public:
    HostRequest() = default;

    /// "GET" → Method::Get; anything outside the SDK's set is Method::Other.
    static Method parseMethod(std::string_view text) noexcept;

    void setMethod(Method method) noexcept { method_ = method; }
    /// The method as sent, for messages about methods outside the SDK's set ("TRACE", "PROPFIND").
    void setMethodText(std::string_view text) noexcept { methodText_ = text; }
    std::string_view methodText() const noexcept {
        return methodText_.empty() ? methodName(method_) : methodText_;
    }
    /// Splits an origin-form target ("/a/b?x=1") into path and query.
    void setTarget(std::string_view target) noexcept;
    void addHeader(std::string_view name, std::string_view value) {
        headers_.push_back({name, value});
        noteHostHeader(name, value);
    }
    /// The first Origin and X-Request-Id fields, noted as headers are added: the pipeline reads
    /// them for every request, and a search of all headers by name costs more than the noting.
    std::string_view origin() const noexcept { return origin_; }
    std::string_view givenRequestId() const noexcept { return givenRequestId_; }
    /// The B3 and traceparent headers, noted the same way, and the trace the pipeline decided.
    const TraceHeaderViews& traceHeaders() const noexcept { return traceHeaders_; }
    RequestTrace& trace() noexcept { return trace_; }
    const RequestTrace& trace() const noexcept { return trace_; }
    void setBody(std::string_view body) noexcept { body_ = body; }
    void setRequestId(std::string_view id) noexcept { requestId_ = id; }
    /// Storage for a generated request id, which must outlive the handler call.
    std::string& requestIdBuffer() noexcept { return requestIdBuffer_; }
    /// The random values a generated id is the hex of (generateRequestId); a new trace takes them
    /// as its id. Null when the id is the caller's.
    std::uint64_t* generatedIdBits() noexcept { return idGenerated_ ? idBits_ : nullptr; }
    void setIdGenerated(bool generated) noexcept { idGenerated_ = generated; }
    void setParams(std::vector<RoutePattern::Param>&& params);
    /// Forgets the previous request but keeps the vectors' capacity, for the next one on a connection.
    void reset() noexcept;

  private:
    void noteHostHeader(std::string_view name, std::string_view value) noexcept;

    std::string requestIdBuffer_;
    std::string_view origin_;
    std::string_view givenRequestId_;
    bool originSeen_ = false;
    bool requestIdSeen_ = false;
    std::string_view methodText_;
    TraceHeaderViews traceHeaders_;
    RequestTrace trace_;
    bool idGenerated_ = false;
    std::uint64_t idBits_[2] = {};
};

}  // namespace berth::server
