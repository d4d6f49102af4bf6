#include "http_probe.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <strings.h>

#include <stdexcept>

namespace berth::test {
namespace {

bool sameName(const std::string& a, const std::string& b) {
    return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string trim(const std::string& text) {
    std::size_t from = text.find_first_not_of(" \t");
    if (from == std::string::npos) return "";
    std::size_t to = text.find_last_not_of(" \t\r");
    return text.substr(from, to - from + 1);
}

}  // namespace

bool HttpResult::has(const std::string& name) const {
    for (const auto& header : headers)
        if (sameName(header.first, name)) return true;
    return false;
}

std::string HttpResult::header(const std::string& name) const {
    for (const auto& header : headers)
        if (sameName(header.first, name)) return header.second;
    return "";
}

std::vector<std::string> HttpResult::headerValues(const std::string& name) const {
    std::vector<std::string> values;
    for (const auto& header : headers)
        if (sameName(header.first, name)) values.push_back(header.second);
    return values;
}

Poco::JSON::Object::Ptr HttpResult::json() const {
    try {
        Poco::JSON::Parser parser;
        Poco::Dynamic::Var parsed = parser.parse(body);
        Poco::JSON::Object::Ptr object = parsed.extract<Poco::JSON::Object::Ptr>();
        if (object.isNull()) throw std::runtime_error("null");
        return object;
    } catch (const Poco::Exception& e) {
        throw std::runtime_error("the body is not a JSON object (" + e.displayText() + "):\n" + describe());
    }
}

std::string HttpResult::describe() const {
    std::string text = "HTTP " + std::to_string(status) + " " + reason + "\n";
    for (const auto& header : headers) text += header.first + ": " + header.second + "\n";
    return text + "\n" + body;
}

HttpProbe::HttpProbe(int port, int timeoutMs, std::string host)
    : port_(port), timeoutMs_(timeoutMs), host_(std::move(host)) {}

HttpResult HttpProbe::get(const std::string& target, const Headers& headers) const {
    HttpCall call;
    call.target = target;
    call.headers = headers;
    return send(call);
}

HttpResult HttpProbe::post(const std::string& target, const std::string& body, const std::string& contentType,
                           const Headers& headers) const {
    HttpCall call;
    call.method = "POST";
    call.target = target;
    call.headers = headers;
    call.body = body;
    call.contentType = contentType;
    return send(call);
}

HttpResult HttpProbe::json(const std::string& method, const std::string& target,
                           const std::string& body) const {
    HttpCall call;
    call.method = method;
    call.target = target;
    call.body = body;
    if (!body.empty()) call.contentType = "application/json";
    call.contentLength = true;
    return send(call);
}

HttpResult HttpProbe::send(const HttpCall& call) const {
    Poco::Net::HTTPClientSession session(host_, static_cast<Poco::UInt16>(port_));
    session.setTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(timeoutMs_) * 1000));
    session.setKeepAlive(false);
    Poco::Net::HTTPRequest request(call.method, call.target, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : call.headers) request.add(name, value);
    if (!call.contentType.empty()) request.setContentType(call.contentType);
    const bool hasBody = !call.body.empty() || call.method == "POST" || call.method == "PUT" ||
                         call.method == "PATCH" || call.chunked || call.contentLength;
    if (call.chunked)
        request.setChunkedTransferEncoding(true);
    else if (hasBody)
        request.setContentLength64(static_cast<Poco::Int64>(call.body.size()));
    std::ostream& out = session.sendRequest(request);
    if (hasBody) out.write(call.body.data(), static_cast<std::streamsize>(call.body.size()));

    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    HttpResult result;
    result.status = static_cast<int>(response.getStatus());
    result.reason = response.getReason();
    for (const auto& [name, value] : response) result.headers.emplace_back(name, value);
    Poco::StreamCopier::copyToString(in, result.body);
    return result;
}

RawAnswer HttpProbe::exchange(const std::string& request) const {
    const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(timeoutMs_) * 1000);
    Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress(host_, static_cast<Poco::UInt16>(port_)), timeout);
    socket.setReceiveTimeout(timeout);
    socket.setSendTimeout(timeout);
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    RawAnswer answer;
    char buffer[4096];
    while (true) {
        int n = 0;
        try {
            n = socket.receiveBytes(buffer, sizeof buffer);
        } catch (const Poco::TimeoutException&) {
            answer.timedOut = true;
            break;
        } catch (const Poco::Exception&) {
            answer.closed = true;  // reset
            break;
        }
        if (n <= 0) {
            answer.closed = true;
            break;
        }
        answer.bytes.append(buffer, static_cast<std::size_t>(n));
    }
    socket.close();
    return answer;
}

HttpResult HttpProbe::raw(const std::string& request) const {
    RawAnswer answer = exchange(request);
    if (answer.timedOut && answer.bytes.empty()) throw Poco::TimeoutException("no answer from berthd");
    HttpResult result;
    std::size_t bodyStart = parseHead(answer.bytes, 0, result);
    result.body = answer.bytes.substr(bodyStart);
    return result;
}

std::size_t parseHead(const std::string& bytes, std::size_t from, HttpResult& result) {
    std::size_t end = bytes.find("\r\n\r\n", from);
    if (bytes.compare(from, 5, "HTTP/") != 0 || end == std::string::npos)
        throw std::runtime_error("not an HTTP answer: '" + bytes.substr(from) + "'");
    std::size_t lineEnd = bytes.find("\r\n", from);
    std::string statusLine = bytes.substr(from, lineEnd - from);
    std::size_t space = statusLine.find(' ');
    result.status = std::stoi(statusLine.substr(space + 1, 3));
    result.reason = statusLine.size() > space + 5 ? statusLine.substr(space + 5) : "";
    std::size_t at = lineEnd + 2;
    while (at < end) {
        std::size_t next = bytes.find("\r\n", at);
        std::string line = bytes.substr(at, next - at);
        std::size_t colon = line.find(':');
        if (colon != std::string::npos)
            result.headers.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
        at = next + 2;
    }
    return end + 4;
}

std::vector<HttpResult> RawAnswer::responses() const {
    std::vector<HttpResult> all;
    std::size_t at = 0;
    while (at < bytes.size()) {
        HttpResult result;
        std::size_t bodyStart = parseHead(bytes, at, result);
        std::string length = result.header("Content-Length");
        std::size_t size = length.empty() ? 0 : static_cast<std::size_t>(std::stoull(length));
        result.body = bytes.substr(bodyStart, size);
        at = bodyStart + size;
        all.push_back(std::move(result));
    }
    return all;
}

}  // namespace berth::test
