#include "envelope.h"

#include <charconv>
#include <cstring>

#include "json_writer.h"

namespace berth::server {

void writeSuccessEnvelope(std::string& out, const Json& data) {
    // One resize for the wrapper and the data together, then plain stores (see json_writer.h).
    static constexpr std::string_view kHead = R"({"status":true,"code":0,"message":"ok","data":)";
    std::size_t used = out.size();
    out.resize(used + kHead.size() + internal::maxJsonLength(data) + 1);
    char* at = out.data() + used;
    std::memcpy(at, kHead.data(), kHead.size());
    at = internal::writeJson(at + kHead.size(), data);
    *at++ = '}';
    out.resize(static_cast<std::size_t>(at - out.data()));
}

void writeErrorEnvelope(std::string& out, int code, std::string_view message, const Json& error,
                        std::string_view requestId, std::string_view traceId) {
    char number[16];
    auto end = std::to_chars(number, number + sizeof number, code).ptr;
    out += R"({"status":false,"code":)";
    out.append(number, end);
    out += R"(,"message":)";
    appendJsonString(out, message);
    out += R"(,"error":)";
    error.dumpTo(out);
    out += R"(,"request_id":)";
    appendJsonString(out, requestId);
    if (!traceId.empty()) {
        out += R"(,"trace_id":)";
        appendJsonString(out, traceId);
    }
    out.push_back('}');
}

}  // namespace berth::server
