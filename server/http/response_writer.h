#pragma once
// HttpResponse → the bytes on the wire, with a Date header formatted once a second per thread
// (formatting it per request costs ~2,400 instructions with Poco's DateTimeFormatter).

#include <string>
#include <string_view>

#include "byte_buffer.h"
#include "http_response.h"

namespace berth::server {

/// "Wed, 25 Nov 2026 13:15:13 GMT" for the current second, cached per thread.
std::string_view currentHttpDate();

/// Appends the status line, headers and (unless `headRequest`, or a 1xx/204/304 status) the body.
/// An HTTP/1.0 client is told "Connection: keep-alive" when the connection stays open, since
/// without it 1.0 means close.
void writeResponse(std::string& out, const HttpResponse& response, bool headRequest, bool keepAlive,
                   bool http10 = false);
/// The same into a connection's output buffer, which needs no zero-filled room.
void writeResponse(ByteBuffer& out, const HttpResponse& response, bool headRequest, bool keepAlive,
                   bool http10 = false);

}  // namespace berth::server
