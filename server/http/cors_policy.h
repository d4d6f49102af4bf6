#pragma once
// Cross-origin rules from the cors.* keys: which browser origins may call the API, and the
// host's answer to preflight OPTIONS requests (plugins never see those).

#include <string>
#include <string_view>
#include <vector>

#include "http_response.h"

namespace berth::server {

struct CorsSettings {
    std::vector<std::string> allowedOrigins;  // exact origins, or "*"; empty turns CORS off
    std::vector<std::string> allowedMethods{"GET", "POST", "PUT", "PATCH", "DELETE"};
    std::vector<std::string> allowedHeaders{"Content-Type", "Authorization", "X-Request-Id"};
    std::vector<std::string> exposedHeaders{"X-Request-Id"};
    bool allowCredentials = false;
    int maxAgeSeconds = 600;
};

class CorsPolicy {
  public:
    explicit CorsPolicy(CorsSettings settings = {});

    bool enabled() const noexcept { return !settings_.allowedOrigins.empty(); }
    bool originAllowed(std::string_view origin) const noexcept;

    /// Headers for an actual (non-preflight) request from an allowed origin.
    void addResponseHeaders(std::string_view origin, HttpResponse& response) const;

    /// Checks a preflight; on success fills a 204 and returns empty, else returns why it is refused.
    std::string answerPreflight(std::string_view origin, std::string_view requestMethod,
                                std::string_view requestHeaders, HttpResponse& response) const;

  private:
    CorsSettings settings_;
    std::string methodsLine_;
    std::string headersLine_;
    std::string exposedLine_;
    std::string maxAge_;
};

/// "a, b ,c" → {"a","b","c"}; empty items dropped.
std::vector<std::string> splitList(std::string_view text);

}  // namespace berth::server
