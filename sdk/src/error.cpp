#include "berth/error.h"

namespace berth {
inline namespace v1 {

ApiError::ApiError(int httpStatus, int code, std::string message, Json error)
    : httpStatus_(httpStatus), code_(code), message_(std::move(message)), error_(std::move(error)) {}

// Out of line so the type_info lives once, in libberth-sdk, and the host catches what plugins throw.
ApiError::~ApiError() = default;

}  // namespace v1
}  // namespace berth
