#pragma once
/// berth/error.h — the one exception a handler throws to answer with an error envelope.
///
///     throw berth::ApiError(404, 40401, "visit task not found", "no task with id 7");
///
/// becomes HTTP 404 with
/// `{"status":false,"code":40401,"message":"visit task not found","error":"no task with id
/// 7","request_id":"…"}`. Any other exception escaping a handler becomes a 500 with a generic message; its
/// details go only to the log.

#include <exception>
#include <string>

#include "berth/json.h"

namespace berth {
inline namespace v1 {

class ApiError : public std::exception {
  public:
    /// httpStatus must be 400–599 (anything else is answered as 500); `code` is the
    /// application's own error number; `error` is any detail worth giving the caller.
    ApiError(int httpStatus, int code, std::string message, Json error = nullptr);
    ~ApiError() override;

    const char* what() const noexcept override { return message_.c_str(); }
    int httpStatus() const noexcept { return httpStatus_; }
    int code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }
    const Json& error() const noexcept { return error_; }

  private:
    int httpStatus_;
    int code_;
    std::string message_;
    Json error_;
};

}  // namespace v1
}  // namespace berth
