// berth/testing.h's ApiClient and ApiResult: route patterns filled in and percent-encoded, one
// Poco HTTPClientSession per call (so a client serves several threads at once), and the answer's
// envelope parsed when it is JSON.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>
#include <cppunit/TestAssert.h>

#include <set>
#include <stdexcept>

#include "berth/testing.h"

namespace berth {
inline namespace v1 {
namespace testing {
namespace {

constexpr std::size_t kDescribedBody = 4000;  // enough to read an envelope, not a page of HTML

// Everything but the unreserved characters (RFC 3986) is escaped: a value never adds a path
// segment, a query parameter or a fragment.
std::string encode(const std::string& value) {
    std::string out;
    Poco::URI::encode(value, "/?#&=+;:@", out);
    return out;
}

std::string listNames(const ApiParams& params) {
    std::string out;
    for (const ApiParam& p : params) out += (out.empty() ? "'" : ", '") + p.name + "'";
    return out.empty() ? "none" : out;
}

}  // namespace

ApiResult::ApiResult(std::string call, HttpResponse response, std::string reason)
    : call_(std::move(call)), response_(std::move(response)), reason_(std::move(reason)) {
    if (response_.body.empty()) {
        parseError_ = "the body is empty";
        return;
    }
    try {
        json_ = Json::parse(response_.body);
        parsed_ = true;
    } catch (const JsonError& e) {
        parseError_ = e.what();
    }
}

std::string ApiResult::header(std::string_view name) const {
    return std::string(response_.header(name));
}

const Json& ApiResult::json() const {
    if (!parsed_)
        CPPUNIT_FAIL(call_ + " answered " + std::to_string(response_.status) +
                     " with a body that is not JSON (" + parseError_ + "):\n" + describe());
    return json_;
}

const Json& ApiResult::data() const {
    const Json* data = json().find("data");
    if (data == nullptr) CPPUNIT_FAIL(call_ + ": no \"data\" in the envelope:\n" + describe());
    return *data;
}

const Json& ApiResult::error() const {
    return json()["error"];
}

int ApiResult::code() const {
    const Json* code = json().find("code");
    if (code == nullptr || !code->isInt())
        CPPUNIT_FAIL(call_ + ": no integer \"code\" in the envelope:\n" + describe());
    return static_cast<int>(code->asInt());
}

std::string ApiResult::message() const {
    const Json* message = json().find("message");
    if (message == nullptr || !message->isString())
        CPPUNIT_FAIL(call_ + ": no \"message\" in the envelope:\n" + describe());
    return message->asString();
}

std::string ApiResult::describe() const {
    std::string text = call_ + " → " + std::to_string(response_.status) + " " + reason_ + "\n";
    for (const auto& [name, value] : response_.headers) text += name + ": " + value + "\n";
    text += "\n";
    if (response_.body.size() <= kDescribedBody) return text + response_.body;
    return text + response_.body.substr(0, kDescribedBody) + "… (" + std::to_string(response_.body.size()) +
           " bytes)";
}

ApiClient::ApiClient(int port, std::chrono::milliseconds timeout) : port_(port), timeout_(timeout) {}

std::string ApiClient::target(std::string_view path, const ApiParams& params, const ApiParams& query) {
    auto fail = [&](const std::string& what) {
        throw std::invalid_argument("api: " + std::string(path) + ": " + what +
                                    " (path parameters given: " + listNames(params) + ")");
    };
    std::string out;
    std::set<std::string> used;
    for (std::size_t at = 0; at < path.size();) {
        std::size_t open = path.find('<', at);
        out.append(path.substr(at, open == std::string_view::npos ? std::string_view::npos : open - at));
        if (open == std::string_view::npos) break;
        std::size_t close = path.find('>', open);
        if (close == std::string_view::npos) fail("'<' without '>'");
        std::string name(path.substr(open + 1, close - open - 1));
        name = name.substr(0, name.find(':'));  // <id:int>
        if (name.empty()) fail("a parameter without a name");
        const ApiParam* found = nullptr;
        for (const ApiParam& p : params)
            if (p.name == name) {
                found = &p;
                break;
            }
        if (found == nullptr) fail("needs the path parameter '" + name + "'");
        out += encode(found->value);
        used.insert(name);
        at = close + 1;
    }
    for (const ApiParam& p : params)
        if (used.count(p.name) == 0) fail("path parameter '" + p.name + "' is not in the path");
    char separator = out.find('?') == std::string::npos ? '?' : '&';
    for (const ApiParam& q : query) {
        out += separator + encode(q.name) + "=" + encode(q.value);
        separator = '&';
    }
    return out;
}

ApiResult ApiClient::get(std::string_view path, const ApiParams& params, const ApiParams& query,
                         const ApiParams& headers) const {
    return send("GET", path, params, query, headers);
}

ApiResult ApiClient::del(std::string_view path, const ApiParams& params, const ApiParams& query,
                         const ApiParams& headers) const {
    return send("DELETE", path, params, query, headers);
}

ApiResult ApiClient::post(std::string_view path, const Json& body) const {
    return send("POST", path, {}, {}, {}, body.dump());
}

ApiResult ApiClient::post(std::string_view path, const ApiParams& params, const Json& body,
                          const ApiParams& query, const ApiParams& headers) const {
    return send("POST", path, params, query, headers, body.dump());
}

ApiResult ApiClient::put(std::string_view path, const Json& body) const {
    return send("PUT", path, {}, {}, {}, body.dump());
}

ApiResult ApiClient::put(std::string_view path, const ApiParams& params, const Json& body,
                         const ApiParams& query, const ApiParams& headers) const {
    return send("PUT", path, params, query, headers, body.dump());
}

ApiResult ApiClient::patch(std::string_view path, const Json& body) const {
    return send("PATCH", path, {}, {}, {}, body.dump());
}

ApiResult ApiClient::patch(std::string_view path, const ApiParams& params, const Json& body,
                           const ApiParams& query, const ApiParams& headers) const {
    return send("PATCH", path, params, query, headers, body.dump());
}

ApiResult ApiClient::send(std::string_view method, std::string_view path, const ApiParams& params,
                          const ApiParams& query, const ApiParams& headers, const std::string& body,
                          const std::string& contentType) const {
    const std::string target = ApiClient::target(path, params, query);
    const std::string call = std::string(method) + " " + target;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port_));
        session.setTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(timeout_.count()) * 1000));
        session.setKeepAlive(false);
        Poco::Net::HTTPRequest request(std::string(method), target, Poco::Net::HTTPMessage::HTTP_1_1);
        for (const ApiParam& h : headers) request.add(h.name, h.value);
        if (!body.empty()) {
            request.setContentLength(static_cast<std::streamsize>(body.size()));
            if (!contentType.empty()) request.setContentType(contentType);
        }
        session.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        HttpResponse answer;
        answer.status = static_cast<int>(response.getStatus());
        for (const auto& [name, value] : response) answer.headers.emplace_back(name, value);
        Poco::StreamCopier::copyToString(in, answer.body);
        return ApiResult(call, std::move(answer), response.getReason());
    } catch (const Poco::Exception& e) {
        throw std::runtime_error(call + ": no answer from 127.0.0.1:" + std::to_string(port_) + ": " +
                                 e.displayText());
    }
}

}  // namespace testing
}  // namespace v1
}  // namespace berth
