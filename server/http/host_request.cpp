#include "host_request.h"

namespace berth::server {
namespace {

// `lower` is lowercase; field names are tokens, so folding with 0x20 is exact for them.
bool nameIs(std::string_view name, std::string_view lower) noexcept {
    for (std::size_t i = 0; i < name.size(); ++i)
        if ((name[i] | 0x20) != lower[i]) return false;
    return true;
}

}  // namespace

Method HostRequest::parseMethod(std::string_view text) noexcept {
    if (text == "GET") return Method::Get;
    if (text == "POST") return Method::Post;
    if (text == "PUT") return Method::Put;
    if (text == "DELETE") return Method::Delete;
    if (text == "PATCH") return Method::Patch;
    if (text == "HEAD") return Method::Head;
    if (text == "OPTIONS") return Method::Options;
    return Method::Other;
}

void HostRequest::setTarget(std::string_view target) noexcept {
    std::size_t question = target.find('?');
    path_ = target.substr(0, question);
    query_ = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
}

void HostRequest::reset() noexcept {
    method_ = Method::Other;
    methodText_ = {};
    path_ = query_ = body_ = requestId_ = {};
    headers_.clear();
    origin_ = givenRequestId_ = {};
    originSeen_ = requestIdSeen_ = false;
    if (traceHeaders_.any) traceHeaders_ = TraceHeaderViews{};  // a branch for the usual request without them
    if (trace_.active) {  // what Connection::observe and the pipeline read of it
        trace_.active = false;
        trace_.context.sampled = false;
        trace_.traceHexLength = 0;
        trace_.traceIsRequestId = false;
    }
    params_.clear();
    json_.reset();
}

void HostRequest::noteHostHeader(std::string_view name, std::string_view value) noexcept {
    if (name.size() == 6 && !originSeen_ && nameIs(name, "origin")) {
        origin_ = value;
        originSeen_ = true;
    } else if (name.size() == 12 && !requestIdSeen_ && nameIs(name, "x-request-id")) {
        givenRequestId_ = value;
        requestIdSeen_ = true;
    } else {
        traceHeaders_.note(name, value);
    }
}

void HostRequest::setParams(std::vector<RoutePattern::Param>&& params) {
    params_.clear();
    for (RoutePattern::Param& param : params)
        params_.push_back({param.name, std::move(param.value), param.number});
}

}  // namespace berth::server
