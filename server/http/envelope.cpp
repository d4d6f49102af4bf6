#include "envelope.h"

#include <charconv>

namespace berth::server {

void writeSuccessEnvelope(std::string& out, const Json& data) {
    out += R"({"status":true,"code":0,"message":"ok","data":)";
    data.dumpTo(out);
    out.push_back('}');
}

void writeErrorEnvelope(std::string& out, int code, std::string_view message, const Json& error,
                        std::string_view requestId) {
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
    out.push_back('}');
}

}  // namespace berth::server
