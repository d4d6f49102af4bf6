#pragma once
/// berth/reply.h — what a handler returns. Usually just data; the host wraps it in the
/// envelope `{"status":true,"code":0,"message":"ok","data":…}`.
///
///     return berth::Json::object({{"id", 7}});                 // 200 with the envelope
///     return berth::Reply::created(task);                       // 201
///     return berth::Reply::raw("Hello, World!", "text/plain");  // no envelope, as is

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "berth/json.h"

namespace berth {
inline namespace v1 {

class Reply {
  public:
    Reply() = default;
    /// Anything a Json can be made from is data for the envelope, with status 200.
    template <class T,
              std::enable_if_t<std::is_constructible_v<Json, T&&> && !std::is_same_v<std::decay_t<T>, Reply>,
                               int> = 0>
    Reply(T&& data) : data_(std::forward<T>(data)) {}

    static Reply created(Json data) { return Reply(std::move(data)).status(201); }
    /// 204 with no body and no envelope.
    static Reply noContent();
    /// A body sent as is, without the envelope.
    static Reply raw(std::string body, std::string contentType = "text/plain; charset=utf-8");

    /// Sets the HTTP status of a successful reply (2xx; errors are thrown as ApiError).
    Reply& status(int httpStatus) & {
        status_ = httpStatus;
        return *this;
    }
    Reply&& status(int httpStatus) && { return std::move(status(httpStatus)); }
    /// Adds a response header (not Content-Length, Connection or Transfer-Encoding: the host owns those).
    Reply& header(std::string name, std::string value) & {
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    Reply&& header(std::string name, std::string value) && {
        return std::move(header(std::move(name), std::move(value)));
    }

    int statusCode() const noexcept { return status_; }
    bool isRaw() const noexcept { return raw_; }
    const Json& data() const noexcept { return data_; }
    const std::string& body() const noexcept { return body_; }
    const std::string& contentType() const noexcept { return contentType_; }
    const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }

  private:
    int status_ = 200;
    bool raw_ = false;
    Json data_;
    std::string body_;
    std::string contentType_;
    std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace v1
}  // namespace berth
