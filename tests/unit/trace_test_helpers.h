#pragma once
// What the tracing unit suites share: a sampled request context to work under, the span file's
// text, and queued records written out as JSON lines.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "trace/trace_context.h"
#include "trace/zipkin_encoder.h"

namespace berth::test {

/// A sampled request's server span: trace 463ac35c9f6413ad48485a3953bb6124, span 1111111111111111.
inline server::TraceContext sampledRequest() {
    server::TraceContext c;
    c.traceHigh = 0x463ac35c9f6413adull;
    c.traceLow = 0x48485a3953bb6124ull;
    c.spanId = 0x1111111111111111ull;
    c.sampled = true;
    return c;
}

/// The whole file ("" when it cannot be read).
inline std::string readText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Every record of `taken` (SpanQueue::take) as JSON lines appended to `out`.
inline void encodeAll(server::ZipkinEncoder& encoder, std::vector<server::ByteBuffer>& taken,
                      server::ByteBuffer& out) {
    for (server::ByteBuffer& records : taken) {
        const char* at = records.data();
        const char* const end = at + records.size();
        while (at < end) at = encoder.encode(at, end, out);
    }
}

}  // namespace berth::test
