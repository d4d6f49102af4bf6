#include "berth/reply.h"

namespace berth {
inline namespace v1 {

Reply Reply::noContent() {
    Reply reply;
    reply.status_ = 204;
    reply.raw_ = true;
    return reply;
}

Reply Reply::raw(std::string body, std::string contentType) {
    Reply reply;
    reply.raw_ = true;
    reply.body_ = std::move(body);
    reply.contentType_ = std::move(contentType);
    return reply;
}

}  // namespace v1
}  // namespace berth
