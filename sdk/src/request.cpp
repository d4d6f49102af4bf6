#include "berth/request.h"

#include <strings.h>
#include <stdexcept>

#include "berth/error.h"
#include "percent_decode.h"

namespace berth {
inline namespace v1 {

const char* methodName(Method method) noexcept {
    switch (method) {
        case Method::Get:
            return "GET";
        case Method::Head:
            return "HEAD";
        case Method::Post:
            return "POST";
        case Method::Put:
            return "PUT";
        case Method::Patch:
            return "PATCH";
        case Method::Delete:
            return "DELETE";
        case Method::Options:
            return "OPTIONS";
        case Method::Other:
            break;
    }
    return "OTHER";
}

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<std::string> Request::query(std::string_view name) const {
    std::string_view rest = query_;
    while (!rest.empty()) {
        std::size_t end = rest.find('&');
        std::string_view pair = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        std::size_t equals = pair.find('=');
        std::string_view rawName = pair.substr(0, equals);
        std::string key;
        if (!internal::percentDecode(rawName, key, true) || key != name) continue;
        std::string value;
        if (equals != std::string_view::npos &&
            !internal::percentDecode(pair.substr(equals + 1), value, true))
            throw ApiError(400, 400, "invalid query string",
                           "bad percent-encoding in parameter '" + key + "'");
        return value;
    }
    return std::nullopt;
}

std::string_view Request::header(std::string_view name) const noexcept {
    for (const Header& header : headers_)
        if (equalsIgnoreCase(header.name, name)) return header.value;
    return {};
}

bool Request::hasHeader(std::string_view name) const noexcept {
    for (const Header& header : headers_)
        if (equalsIgnoreCase(header.name, name)) return true;
    return false;
}

const Json& Request::json() const {
    if (!json_) {
        try {
            json_ = Json::parse(body_);
        } catch (const JsonError& e) {
            throw ApiError(400, 400, "invalid JSON body", e.what());
        }
    }
    return *json_;
}

const std::string& Request::param(std::string_view name) const {
    for (const PathParam& param : params_)
        if (param.name == name) return param.value;
    throw std::out_of_range("route has no path parameter '" + std::string(name) + "'");
}

std::int64_t Request::paramInt(std::string_view name) const {
    for (const PathParam& param : params_)
        if (param.name == name) return param.number;
    throw std::out_of_range("route has no path parameter '" + std::string(name) + "'");
}

}  // namespace v1
}  // namespace berth
