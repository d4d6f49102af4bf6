#include "berth/http_client.h"

#include <strings.h>

namespace berth {
inline namespace v1 {

std::string_view HttpResponse::header(std::string_view name) const noexcept {
    for (const auto& [key, value] : headers)
        if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
    return {};
}

Json HttpResponse::json() const {
    if (body.empty()) return nullptr;
    return Json::parse(body);
}

DownstreamError::DownstreamError(std::string service, int status, std::string body, std::string message)
    : ApiError(502, kDownstreamBadAnswer, std::move(message),
               Json::object({{"service", service}, {"status", status}})),
      service_(std::move(service)),
      status_(status),
      body_(std::move(body)) {}

// Out of line so the type_info lives once, in libberth-sdk, and a plugin catches what the host throws.
DownstreamError::~DownstreamError() = default;

HttpClient::~HttpClient() = default;

namespace {

HttpCall makeCall(Method method, std::string path, std::string body, std::string contentType,
                  HttpHeaders headers) {
    HttpCall call;
    call.method = method;
    call.path = std::move(path);
    call.body = std::move(body);
    call.contentType = std::move(contentType);
    call.headers = std::move(headers);
    return call;
}

HttpCall jsonCall(Method method, std::string path, const Json* body, HttpHeaders headers) {
    headers.emplace_back("Accept", "application/json");
    if (body == nullptr) return makeCall(method, std::move(path), {}, {}, std::move(headers));
    return makeCall(method, std::move(path), body->dump(), "application/json", std::move(headers));
}

}  // namespace

HttpResponse HttpClient::get(std::string path, HttpHeaders headers) {
    return send(makeCall(Method::Get, std::move(path), {}, {}, std::move(headers)));
}

HttpResponse HttpClient::del(std::string path, HttpHeaders headers) {
    return send(makeCall(Method::Delete, std::move(path), {}, {}, std::move(headers)));
}

HttpResponse HttpClient::post(std::string path, std::string body, std::string contentType,
                              HttpHeaders headers) {
    return send(
        makeCall(Method::Post, std::move(path), std::move(body), std::move(contentType), std::move(headers)));
}

HttpResponse HttpClient::put(std::string path, std::string body, std::string contentType,
                             HttpHeaders headers) {
    return send(
        makeCall(Method::Put, std::move(path), std::move(body), std::move(contentType), std::move(headers)));
}

HttpResponse HttpClient::patch(std::string path, std::string body, std::string contentType,
                               HttpHeaders headers) {
    return send(makeCall(Method::Patch, std::move(path), std::move(body), std::move(contentType),
                         std::move(headers)));
}

Json HttpClient::expectJson(const HttpCall& call) {
    HttpResponse response = send(call);
    std::string where = std::string(methodName(call.method)) + " " + call.path;
    if (!response.ok())
        throw DownstreamError(
            service(), response.status, std::move(response.body),
            "service '" + service() + "' answered " + std::to_string(response.status) + " to " + where);
    try {
        return response.json();
    } catch (const JsonError& e) {
        throw DownstreamError(service(), response.status, std::move(response.body),
                              "service '" + service() + "' answered " + where + " with a body that is not " +
                                  "JSON: " + e.what());
    }
}

Json HttpClient::getJson(std::string path, HttpHeaders headers) {
    return expectJson(jsonCall(Method::Get, std::move(path), nullptr, std::move(headers)));
}

Json HttpClient::postJson(std::string path, const Json& body, HttpHeaders headers) {
    return expectJson(jsonCall(Method::Post, std::move(path), &body, std::move(headers)));
}

Json HttpClient::putJson(std::string path, const Json& body, HttpHeaders headers) {
    return expectJson(jsonCall(Method::Put, std::move(path), &body, std::move(headers)));
}

Json HttpClient::patchJson(std::string path, const Json& body, HttpHeaders headers) {
    return expectJson(jsonCall(Method::Patch, std::move(path), &body, std::move(headers)));
}

Json HttpClient::deleteJson(std::string path, HttpHeaders headers) {
    return expectJson(jsonCall(Method::Delete, std::move(path), nullptr, std::move(headers)));
}

}  // namespace v1
}  // namespace berth
