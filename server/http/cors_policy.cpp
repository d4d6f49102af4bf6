#include "cors_policy.h"

#include <strings.h>

namespace berth::server {
namespace {

std::string join(const std::vector<std::string>& items) {
    std::string line;
    for (const std::string& item : items) {
        if (!line.empty()) line += ", ";
        line += item;
    }
    return line;
}

bool containsIgnoreCase(const std::vector<std::string>& items, std::string_view wanted) {
    for (const std::string& item : items)
        if (item.size() == wanted.size() && strncasecmp(item.data(), wanted.data(), wanted.size()) == 0)
            return true;
    return false;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

std::vector<std::string> splitList(std::string_view text) {
    std::vector<std::string> items;
    while (true) {
        std::size_t comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) return items;
        text.remove_prefix(comma + 1);
    }
}

CorsPolicy::CorsPolicy(CorsSettings settings)
    : settings_(std::move(settings)),
      methodsLine_(join(settings_.allowedMethods)),
      headersLine_(join(settings_.allowedHeaders)),
      exposedLine_(join(settings_.exposedHeaders)),
      maxAge_(std::to_string(settings_.maxAgeSeconds)) {}

bool CorsPolicy::originAllowed(std::string_view origin) const noexcept {
    if (origin.empty()) return false;
    for (const std::string& allowed : settings_.allowedOrigins)
        if (allowed == "*" || allowed == origin) return true;
    return false;
}

void CorsPolicy::addResponseHeaders(std::string_view origin, HttpResponse& response) const {
    // The origin is echoed rather than "*" so that credentials work and caches keep apart
    // the answers for different origins (hence Vary).
    response.addHeader("Access-Control-Allow-Origin", std::string(origin));
    response.addHeader("Vary", "Origin");
    if (settings_.allowCredentials) response.addHeader("Access-Control-Allow-Credentials", "true");
    if (!exposedLine_.empty()) response.addHeader("Access-Control-Expose-Headers", exposedLine_);
}

std::string CorsPolicy::answerPreflight(std::string_view origin, std::string_view requestMethod,
                                        std::string_view requestHeaders, HttpResponse& response) const {
    if (!originAllowed(origin)) return "origin '" + std::string(origin) + "' is not allowed";
    if (!containsIgnoreCase(settings_.allowedMethods, requestMethod))
        return "method '" + std::string(requestMethod) + "' is not allowed";
    for (const std::string& header : splitList(requestHeaders))
        if (!containsIgnoreCase(settings_.allowedHeaders, header))
            return "header '" + header + "' is not allowed";
    response.status = 204;
    response.addHeader("Access-Control-Allow-Origin", std::string(origin));
    response.addHeader("Vary", "Origin");
    response.addHeader("Access-Control-Allow-Methods", methodsLine_);
    if (!headersLine_.empty()) response.addHeader("Access-Control-Allow-Headers", headersLine_);
    response.addHeader("Access-Control-Max-Age", maxAge_);
    if (settings_.allowCredentials) response.addHeader("Access-Control-Allow-Credentials", "true");
    return {};
}

}  // namespace berth::server
