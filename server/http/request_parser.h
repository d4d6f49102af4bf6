#pragma once
// A strict, incremental HTTP/1.1 request parser (RFC 9112). Debian's libhttp-parser measured
// ~2,800 of the ~9,400 instructions of a whole plaintext request here (over the 20% at which
// the engine issue allows a parser of our own), and it accepts several things RFC 9112
// forbids, which had to be checked again after it. This one reads the header section in one
// pass once it is complete, refuses what the RFC says a server must refuse, and points into the
// connection's buffer instead of copying (chunked bodies excepted). Fuzzed: see fuzz/.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/request.h"

namespace berth::server {

struct ParserLimits {
    std::size_t maxHeaderBytes = 16 * 1024;  // header fields (name + value + 4 each); also the request line
    std::size_t maxHeaderCount = 64;
    std::size_t maxBodyBytes = 1024 * 1024;
};

class RequestParser {
  public:
    enum class Status { NeedMore, HeadersDone, Complete, Error };

    struct Span {
        std::uint32_t offset = 0;
        std::uint32_t length = 0;
    };
    struct Field {
        Span name;
        Span value;
    };

    explicit RequestParser(const ParserLimits& limits) : limits_(limits) {}

    /// Forget the previous message; the next one starts at offset 0 of the buffer.
    void reset();

    /// Parses the message at the start of `data`, which holds everything received so far for it
    /// (the same bytes as last time plus new ones: spans are offsets into it). Returns
    /// HeadersDone once, when the header section is complete but the body is not, then
    /// NeedMore until Complete; or Error, with errorStatus()/errorDetail() set.
    Status parse(const char* data, std::size_t size);

    // After HeadersDone/Complete:
    Method method() const noexcept { return method_; }
    Span methodText() const noexcept { return methodText_; }
    Span target() const noexcept { return target_; }
    int minorVersion() const noexcept { return minor_; }
    const std::vector<Field>& fields() const noexcept { return fields_; }
    bool keepAlive() const noexcept { return keepAlive_; }
    bool expectsContinue() const noexcept { return expectContinue_; }
    /// True when a body is still to come (Content-Length > 0 or chunked).
    bool expectsBody() const noexcept { return chunked_ || contentLength_ > 0; }

    // After Complete:
    /// The body: a span of the buffer for Content-Length, the decoded bytes for chunked.
    std::string_view body(const char* data) const noexcept {
        return chunked_ ? std::string_view(chunkedBody_)
                        : std::string_view(data + bodyStart_, contentLength_);
    }
    /// Bytes of the buffer this message took; the next pipelined one starts there.
    std::size_t consumed() const noexcept { return consumed_; }

    /// The most bytes one message can occupy before parse() refuses it: a connection that buffers
    /// this much (plus what it reads ahead) never waits for a NeedMore that cannot end.
    std::size_t maxMessageBytes() const noexcept {
        return rawHeadLimit() + maxChunkedFraming() + 1026 + limits_.maxHeaderBytes + 2;
    }

    // After Error:
    int errorStatus() const noexcept { return errorStatus_; }
    const std::string& errorDetail() const noexcept { return errorDetail_; }

  private:
    enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailer, Done, Failed };

    Status fail(int status, std::string detail);
    /// 414 when the request line alone is too long, else 431.
    Status failOversizedHead(const char* data, std::size_t size);
    /// Raw bytes a head may take before its end is seen (field bytes plus line syntax and OWS).
    std::size_t rawHeadLimit() const noexcept { return 2 * limits_.maxHeaderBytes + 256; }
    /// Raw bytes a chunked body may take: the body itself plus generous framing.
    std::size_t maxChunkedFraming() const noexcept { return 2 * limits_.maxBodyBytes + 64 * 1024; }
    Status parseHead(const char* data, std::size_t headEnd);
    bool parseRequestLine(const char* data, std::size_t end);
    /// A header (or, with `trailer`, a trailer) field line without its CRLF; trailer fields are
    /// checked and dropped.
    bool parseField(const char* data, std::size_t start, std::size_t end, bool trailer);
    Status parseChunked(const char* data, std::size_t size);

    const ParserLimits& limits_;
    Phase phase_ = Phase::Head;
    std::size_t scan_ = 0;  // where the search for the end of the head resumes
    bool requestLineSeen_ = false;
    bool requestLineParsed_ = false;

    Method method_ = Method::Other;
    Span methodText_;
    Span target_;
    int minor_ = 1;
    std::vector<Field> fields_;
    bool keepAlive_ = true;
    bool expectContinue_ = false;
    bool chunked_ = false;
    bool sawContentLength_ = false;
    bool sawTransferEncoding_ = false;
    bool connectionClose_ = false;
    bool connectionKeepAlive_ = false;
    int hosts_ = 0;
    std::size_t fieldBytes_ = 0;  // name + value + 4 per field, as http.max_header_bytes counts
    std::uint64_t contentLength_ = 0;
    std::size_t bodyStart_ = 0;
    std::size_t consumed_ = 0;

    std::size_t chunkPos_ = 0;          // parse position in the chunked body
    std::uint64_t chunkRemaining_ = 0;  // bytes left in the current chunk
    std::size_t trailerBytes_ = 0;
    std::string chunkedBody_;

    int errorStatus_ = 0;
    std::string errorDetail_;
};

}  // namespace berth::server
