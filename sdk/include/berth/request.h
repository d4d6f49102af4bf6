#pragma once
/// berth/request.h — what a handler is given: method, path, query, headers, body and the
/// typed path parameters its route pattern declared.
///
///     berth::Reply getTask(const berth::Request& req) {
///         std::int64_t id = req.paramInt("id");          // from "/visit_tasks/<id:int>"
///         auto limit = req.query("limit");                // std::optional<std::string>
///         const berth::Json& body = req.json();           // parsed on first use; bad JSON → 400
///         ...
///     }
///
/// Views returned here point into the host's buffers and stay valid only while the handler runs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/json.h"

namespace berth {
inline namespace v1 {

enum class Method : std::uint8_t { Get, Head, Post, Put, Patch, Delete, Options, Other };

/// "GET", "HEAD", … ("OTHER" for Method::Other).
const char* methodName(Method method) noexcept;

struct Header {
    std::string_view name;
    std::string_view value;
};

class Request {
  public:
    Method method() const noexcept { return method_; }
    /// The path as the client sent it, before percent-decoding, without the query.
    std::string_view path() const noexcept { return path_; }
    /// The raw query string without '?', or empty.
    std::string_view queryString() const noexcept { return query_; }
    /// The first query parameter of that name, percent-decoded ('+' is a space).
    std::optional<std::string> query(std::string_view name) const;
    /// Header value by case-insensitive name; empty when absent.
    std::string_view header(std::string_view name) const noexcept;
    bool hasHeader(std::string_view name) const noexcept;
    const std::vector<Header>& headers() const noexcept { return headers_; }
    std::string_view body() const noexcept { return body_; }
    /// The body parsed as JSON on first use; throws ApiError 400 when it is not JSON.
    const Json& json() const;

    /// A path parameter, percent-decoded. Throws std::out_of_range for a name the route lacks.
    const std::string& param(std::string_view name) const;
    /// An `<name:int>` parameter (already checked by the router to fit in 64 bits).
    std::int64_t paramInt(std::string_view name) const;

    /// The id echoed in X-Request-Id and in error envelopes.
    std::string_view requestId() const noexcept { return requestId_; }

  protected:
    struct PathParam {
        std::string_view name;
        std::string value;
        std::int64_t number = 0;
    };

    Request() = default;
    ~Request() = default;
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    Method method_ = Method::Other;
    std::string_view path_;
    std::string_view query_;
    std::string_view body_;
    std::string_view requestId_;
    std::vector<Header> headers_;
    std::vector<PathParam> params_;
    mutable std::optional<Json> json_;
};

}  // namespace v1
}  // namespace berth
