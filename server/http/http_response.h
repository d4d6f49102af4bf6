#pragma once
// What the pipeline hands back to the transport: a status, headers and a body, ready to write.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::server {

struct HttpResponse {
    int status = 200;
    /// Sent as X-Request-Id; points into the request, which outlives the writing of the response.
    std::string_view requestId;
    std::string contentType;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    void addHeader(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
    }
    void reset() {
        status = 200;
        requestId = {};
        contentType.clear();
        body.clear();
        headers.clear();
    }
};

/// "OK", "Not Found", … for the status line.
std::string_view reasonPhrase(int status) noexcept;

}  // namespace berth::server
