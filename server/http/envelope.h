#pragma once
// The JSON envelope around every reply, written straight into the response body: a Poco::JSON
// tree plus Stringifier costs ~23,000 instructions for a small reply, this writer under 1,000
// (../shared/HTTP-NOTES.md).

#include <string>
#include <string_view>

#include "berth/json.h"

namespace berth::server {

/// {"status":true,"code":0,"message":"ok","data":…}
void writeSuccessEnvelope(std::string& out, const Json& data);

/// {"status":false,"code":…,"message":…,"error":…,"request_id":…}, and ,"trace_id":… before the
/// closing brace when `traceId` is not empty (a traced request).
void writeErrorEnvelope(std::string& out, int code, std::string_view message, const Json& error,
                        std::string_view requestId, std::string_view traceId = {});

}  // namespace berth::server
