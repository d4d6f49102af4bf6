#include "response_writer.h"

#include <charconv>
#include <ctime>

namespace berth::server {

std::string_view currentHttpDate() {
    thread_local std::time_t cachedSecond = 0;
    thread_local char cached[40];
    thread_local std::size_t length = 0;
    std::time_t now = std::time(nullptr);
    if (now != cachedSecond) {
        std::tm utc;
        gmtime_r(&now, &utc);
        length = std::strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        cachedSecond = now;
    }
    return {cached, length};
}

void writeResponse(std::string& out, const HttpResponse& response, bool headRequest, bool keepAlive,
                   bool http10) {
    char number[24];
    out += "HTTP/1.1 ";
    out.append(number, std::to_chars(number, number + sizeof number, response.status).ptr);
    out.push_back(' ');
    out += reasonPhrase(response.status);
    out += "\r\nServer: berthd\r\nDate: ";
    out += currentHttpDate();
    out += "\r\n";
    const bool bodyless = response.status < 200 || response.status == 204 || response.status == 304;
    if (!bodyless) {
        if (!response.contentType.empty()) {
            out += "Content-Type: ";
            out += response.contentType;
            out += "\r\n";
        }
        out += "Content-Length: ";
        out.append(number, std::to_chars(number, number + sizeof number, response.body.size()).ptr);
        out += "\r\n";
    }
    if (!keepAlive)
        out += "Connection: close\r\n";
    else if (http10)
        out += "Connection: keep-alive\r\n";
    if (!response.requestId.empty()) {
        out += "X-Request-Id: ";
        out += response.requestId;
        out += "\r\n";
    }
    for (const auto& [name, value] : response.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
    if (!bodyless && !headRequest) out += response.body;
}

}  // namespace berth::server
