#pragma once
// What a request's access log line and its server span both say: the access log's writer hands
// it, as it wrote it, to the tracer (AccessLog::RecordView), which reads the span's fields from it
// (ServerSpanFields) without copying them into a struct of its own.

#include <cstdint>
#include <string_view>

namespace berth::server {

struct RequestFields {
    std::string_view path;
    std::string_view quotedPath;  ///< the path quoted and escaped already (as the line has it), or empty
    std::string_view traceId;     ///< hex; empty when the request was not traced
    std::uint32_t durationUs = 0;
    std::uint16_t status = 0;
    std::uint8_t method = 0;  // berth::Method
};

}  // namespace berth::server
