#include "request_parser.h"

#include <array>
#include <cstring>

namespace berth::server {
namespace {

constexpr std::size_t kMaxChunkLine = 1024;  // a chunk size with its extensions

constexpr std::uint8_t kToken = 1;   // tchar (RFC 9110 5.6.2)
constexpr std::uint8_t kTarget = 2;  // a request-target byte: VCHAR
constexpr std::uint8_t kValue = 4;   // a field-value byte: VCHAR, obs-text, SP, HTAB

constexpr std::array<std::uint8_t, 256> makeClasses() {
    std::array<std::uint8_t, 256> classes{};
    for (int c = 0x21; c <= 0x7E; ++c) classes[c] |= kTarget | kValue;
    for (int c = 0x80; c <= 0xFF; ++c) classes[c] |= kValue;
    classes[' '] |= kValue;
    classes['\t'] |= kValue;
    for (int c = '0'; c <= '9'; ++c) classes[c] |= kToken;
    for (int c = 'a'; c <= 'z'; ++c) classes[c] |= kToken;
    for (int c = 'A'; c <= 'Z'; ++c) classes[c] |= kToken;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) classes[static_cast<unsigned char>(c)] |= kToken;
    return classes;
}
constexpr std::array<std::uint8_t, 256> kClasses = makeClasses();

bool is(char c, std::uint8_t cls) {
    return (kClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

// `lower` is lowercase letters, digits and '-'. Folding with 0x20 instead of strncasecmp (a call
// and a locale-aware loop, ~50 instructions per field) is exact here: the only other bytes that
// fold onto those are controls (CR onto '-', DLE.. onto digits), which never reach this point,
// since names are tokens and values were checked for control characters first.
bool equalsIgnoreCase(std::string_view text, std::string_view lower) {
    if (text.size() != lower.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i)
        if ((text[i] | 0x20) != lower[i]) return false;
    return true;
}

Method methodFrom(std::string_view text) {
    switch (text.size()) {
        case 3:
            if (text == "GET") return Method::Get;
            if (text == "PUT") return Method::Put;
            break;
        case 4:
            if (text == "POST") return Method::Post;
            if (text == "HEAD") return Method::Head;
            break;
        case 5:
            if (text == "PATCH") return Method::Patch;
            break;
        case 6:
            if (text == "DELETE") return Method::Delete;
            break;
        case 7:
            if (text == "OPTIONS") return Method::Options;
            break;
    }
    return Method::Other;
}

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

inline std::string_view trimOws(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

void RequestParser::reset() {
    phase_ = Phase::Head;
    scan_ = 0;
    requestLineSeen_ = requestLineParsed_ = false;
    method_ = Method::Other;
    methodText_ = target_ = {};
    minor_ = 1;
    fields_.clear();
    keepAlive_ = true;
    expectContinue_ = chunked_ = sawContentLength_ = sawTransferEncoding_ = false;
    connectionClose_ = connectionKeepAlive_ = false;
    hosts_ = 0;
    fieldBytes_ = 0;
    contentLength_ = 0;
    bodyStart_ = consumed_ = 0;
    chunkPos_ = 0;
    chunkRemaining_ = 0;
    trailerBytes_ = 0;
    chunkedBody_.clear();
    errorStatus_ = 0;
    errorDetail_.clear();
}

RequestParser::Status RequestParser::fail(int status, std::string detail) {
    phase_ = Phase::Failed;
    errorStatus_ = status;
    errorDetail_ = std::move(detail);
    return Status::Error;
}

RequestParser::Status RequestParser::parse(const char* data, std::size_t size) {
    switch (phase_) {
        case Phase::Failed:
            return Status::Error;
        case Phase::Done:
            return Status::Complete;
        case Phase::Body:
            if (size < bodyStart_ + contentLength_) return Status::NeedMore;
            consumed_ = bodyStart_ + contentLength_;
            phase_ = Phase::Done;
            return Status::Complete;
        case Phase::ChunkSize:
        case Phase::ChunkData:
        case Phase::ChunkDataEnd:
        case Phase::Trailer:
            return parseChunked(data, size);
        case Phase::Head:
            break;
    }
    // Find the end of the header section: an empty line. Every line must end in CRLF.
    std::size_t i = scan_;
    while (i < size) {
        const void* found = std::memchr(data + i, '\n', size - i);
        if (found == nullptr) break;
        std::size_t newline = static_cast<std::size_t>(static_cast<const char*>(found) - data);
        // First the bounds that would have refused these bytes had the LF come in a later read:
        // the answer must not depend on where reads end.
        if ((!requestLineSeen_ && newline > limits_.maxHeaderBytes + 1) || newline > rawHeadLimit())
            return failOversizedHead(data, newline);
        if (newline == 0 || data[newline - 1] != '\r')
            return fail(400, "a line ends in a bare LF; HTTP/1.1 lines end in CRLF");
        if (newline == 1) return fail(400, "the request starts with an empty line");
        // The request line is judged as soon as it is complete: an HTTP/0.9-style "GET /x" must
        // not wait for a header section that will never come.
        if (!requestLineSeen_) {
            requestLineSeen_ = true;
            if (newline - 1 <= limits_.maxHeaderBytes) {
                if (!parseRequestLine(data, newline - 1)) return Status::Error;
                requestLineParsed_ = true;
            }
        }
        if (newline >= 3 && data[newline - 2] == '\n') {
            // The same bounds as while waiting below, so the answer does not depend on the reads.
            if (newline + 1 > rawHeadLimit()) return failOversizedHead(data, size);
            return parseHead(data, newline + 1);
        }
        i = newline + 1;
    }
    scan_ = size;
    // The limits are checked exactly once the head is complete (so the answer can still carry
    // the request id and CORS headers); this only bounds what is buffered until then.
    if (std::memchr(data, '\n', size) == nullptr && size > limits_.maxHeaderBytes + 1)  // + its CR
        return failOversizedHead(data, size);
    if (size > rawHeadLimit()) return failOversizedHead(data, size);
    return Status::NeedMore;
}

RequestParser::Status RequestParser::failOversizedHead(const char* data, std::size_t size) {
    const void* newline = std::memchr(data, '\n', size);
    std::size_t requestLine =
        newline == nullptr ? size : static_cast<std::size_t>(static_cast<const char*>(newline) - data);
    if (requestLine > limits_.maxHeaderBytes + 1)
        return fail(414, "the request line exceeds " + std::to_string(limits_.maxHeaderBytes) + " bytes");
    return fail(431, "header fields exceed " + std::to_string(limits_.maxHeaderBytes) + " bytes");
}

bool RequestParser::parseRequestLine(const char* data, std::size_t end) {
    std::size_t i = 0;
    while (i < end && is(data[i], kToken)) ++i;
    if (i == 0 || i >= end || data[i] != ' ') {
        fail(400, "malformed request line: expected a method token and one space");
        return false;
    }
    methodText_ = {0, static_cast<std::uint32_t>(i)};
    method_ = methodFrom({data, i});
    std::size_t targetStart = ++i;
    while (i < end && is(data[i], kTarget)) ++i;
    if (i == targetStart || i >= end || data[i] != ' ') {
        fail(400, "malformed request line: the target must be visible ASCII followed by one space");
        return false;
    }
    target_ = {static_cast<std::uint32_t>(targetStart), static_cast<std::uint32_t>(i - targetStart)};
    std::string_view version(data + i + 1, end - i - 1);
    if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.' || version[5] < '0' ||
        version[5] > '9' || version[7] < '0' || version[7] > '9') {
        fail(400, "malformed request line: the version must look like HTTP/1.1");
        return false;
    }
    if (version[5] != '1') {
        fail(505, std::string(version) + " is not served; use HTTP/1.1");
        return false;
    }
    minor_ = version[7] - '0';
    return true;
}

bool RequestParser::parseField(const char* data, std::size_t start, std::size_t end, bool trailer) {
    if (data[start] == ' ' || data[start] == '\t') {
        fail(400, "folded header lines (obs-fold) are not accepted");
        return false;
    }
    std::size_t i = start;
    while (i < end && is(data[i], kToken)) ++i;
    if (i >= end || data[i] != ':') {
        if (i < end && (data[i] == ' ' || data[i] == '\t'))
            fail(400, "whitespace between a header name and its colon");
        else
            fail(400, i == start ? "a header line without a name" : "invalid character in a header name");
        return false;
    }
    if (i == start) {
        fail(400, "a header line without a name");
        return false;
    }
    std::string_view name(data + start, i - start);
    for (std::size_t j = i + 1; j < end; ++j) {
        if (!is(data[j], kValue)) {
            fail(400, "control character in the value of header " + std::string(name));
            return false;
        }
    }
    std::string_view value = trimOws({data + i + 1, end - i - 1});
    if (trailer) return true;
    fieldBytes_ += name.size() + value.size() + 4;
    fields_.push_back(
        {{static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(name.size())},
         {static_cast<std::uint32_t>(value.data() - data), static_cast<std::uint32_t>(value.size())}});

    // The few fields that decide framing and connection handling.
    switch (name.size()) {
        case 4:
            if (equalsIgnoreCase(name, "host")) ++hosts_;
            break;
        case 6:
            if (equalsIgnoreCase(name, "expect")) {
                if (!equalsIgnoreCase(value, "100-continue")) {
                    fail(417, "only Expect: 100-continue is understood");
                    return false;
                }
                expectContinue_ = true;
            }
            break;
        case 10:
            if (equalsIgnoreCase(name, "connection")) {
                std::string_view rest = value;
                while (!rest.empty()) {
                    std::size_t comma = rest.find(',');
                    std::string_view option = trimOws(rest.substr(0, comma));
                    if (equalsIgnoreCase(option, "close")) connectionClose_ = true;
                    if (equalsIgnoreCase(option, "keep-alive")) connectionKeepAlive_ = true;
                    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
                }
            }
            break;
        case 14:
            if (equalsIgnoreCase(name, "content-length")) {
                if (sawContentLength_) {
                    fail(400, "more than one Content-Length");
                    return false;
                }
                sawContentLength_ = true;
                if (value.empty() || value.size() > 19) {
                    fail(400, "Content-Length must be 1 to 19 digits");
                    return false;
                }
                std::uint64_t length = 0;
                for (char c : value) {
                    if (c < '0' || c > '9') {
                        fail(400, "Content-Length must be digits only");
                        return false;
                    }
                    length = length * 10 + static_cast<std::uint64_t>(c - '0');
                }
                contentLength_ = length;
            }
            break;
        case 17:
            if (equalsIgnoreCase(name, "transfer-encoding")) {
                if (sawTransferEncoding_) {
                    fail(400, "more than one Transfer-Encoding field");
                    return false;
                }
                sawTransferEncoding_ = true;
                // RFC 9112 6.1: without chunked as the final coding the body length is unknown (400,
                // then close); other codings before chunked are ones we do not implement (501).
                std::size_t lastComma = value.rfind(',');
                std::string_view last =
                    trimOws(lastComma == std::string_view::npos ? value : value.substr(lastComma + 1));
                if (!equalsIgnoreCase(last, "chunked")) {
                    fail(400, "Transfer-Encoding '" + std::string(value) + "' does not end in chunked");
                    return false;
                }
                if (lastComma != std::string_view::npos) {
                    fail(501,
                         "Transfer-Encoding '" + std::string(value) + "' is not supported; only chunked");
                    return false;
                }
                chunked_ = true;
            }
            break;
    }
    return true;
}

RequestParser::Status RequestParser::parseHead(const char* data, std::size_t headEnd) {
    const char* lineEnd = static_cast<const char*>(std::memchr(data, '\n', headEnd));
    std::size_t end = static_cast<std::size_t>(lineEnd - data) - 1;  // before the CR
    if (end > limits_.maxHeaderBytes)
        return fail(414, "the request line exceeds " + std::to_string(limits_.maxHeaderBytes) + " bytes");
    if (!requestLineParsed_ && !parseRequestLine(data, end)) return Status::Error;
    std::size_t start = end + 2;
    while (start + 2 < headEnd) {
        lineEnd = static_cast<const char*>(std::memchr(data + start, '\n', headEnd - start));
        end = static_cast<std::size_t>(lineEnd - data) - 1;
        if (!parseField(data, start, end, false)) return Status::Error;
        start = end + 2;
    }
    if (fields_.size() > limits_.maxHeaderCount)
        return fail(431, "more than " + std::to_string(limits_.maxHeaderCount) + " header fields");
    if (fieldBytes_ > limits_.maxHeaderBytes)
        return fail(431, "header fields exceed " + std::to_string(limits_.maxHeaderBytes) + " bytes");
    if (minor_ >= 1 && hosts_ == 0) return fail(400, "HTTP/1.1 requires a Host header");
    if (hosts_ > 1) return fail(400, "more than one Host header");
    if (chunked_ && sawContentLength_)
        return fail(400, "Content-Length together with Transfer-Encoding (refused: request smuggling)");
    if (chunked_ && minor_ == 0) return fail(400, "Transfer-Encoding is not allowed in HTTP/1.0");
    if (contentLength_ > limits_.maxBodyBytes)
        return fail(413, "the body exceeds the limit of " + std::to_string(limits_.maxBodyBytes) + " bytes");
    keepAlive_ = minor_ >= 1 ? !connectionClose_ : connectionKeepAlive_ && !connectionClose_;

    bodyStart_ = headEnd;
    if (chunked_) {
        chunkPos_ = headEnd;
        phase_ = Phase::ChunkSize;
        Status status = parseChunked(data, bodyStart_);  // nothing of the body is looked at yet
        return status == Status::NeedMore ? Status::HeadersDone : status;
    }
    if (contentLength_ > 0) {
        phase_ = Phase::Body;
        return Status::HeadersDone;
    }
    consumed_ = headEnd;
    phase_ = Phase::Done;
    return Status::Complete;
}

RequestParser::Status RequestParser::parseChunked(const char* data, std::size_t size) {
    while (true) {
        // Tiny chunks cost framing bytes that do not count as body: bound them too, so the
        // connection never holds more than maxMessageBytes() of one message.
        if (chunkPos_ - bodyStart_ > maxChunkedFraming())
            return fail(
                413, "the chunked body's framing exceeds " + std::to_string(maxChunkedFraming()) + " bytes");
        switch (phase_) {
            case Phase::ChunkSize: {
                const void* found = std::memchr(data + chunkPos_, '\n', size - chunkPos_);
                if (found == nullptr) {
                    if (size - chunkPos_ > kMaxChunkLine + 1)  // + its CR
                        return fail(400, "a chunk size line longer than 1024 bytes");
                    return Status::NeedMore;
                }
                std::size_t newline = static_cast<std::size_t>(static_cast<const char*>(found) - data);
                if (newline - chunkPos_ > kMaxChunkLine + 1)  // as if the LF had come later
                    return fail(400, "a chunk size line longer than 1024 bytes");
                if (newline == chunkPos_ || data[newline - 1] != '\r')
                    return fail(400, "a chunk size line must end in CRLF");
                if (newline - 1 - chunkPos_ > kMaxChunkLine)
                    return fail(400, "a chunk size line longer than 1024 bytes");
                std::size_t i = chunkPos_;
                std::uint64_t chunk = 0;
                int digits = 0;
                for (int d; i < newline - 1 && (d = hexDigit(data[i])) >= 0; ++i) {
                    if (++digits > 15) return fail(400, "chunk size too large");
                    chunk = chunk * 16 + static_cast<std::uint64_t>(d);
                }
                if (digits == 0) return fail(400, "malformed chunk size");
                // What may follow the size: optional whitespace and chunk extensions, ignored.
                std::size_t rest = i;
                while (rest < newline - 1 && (data[rest] == ' ' || data[rest] == '\t')) ++rest;
                if (rest < newline - 1 && data[rest] != ';') return fail(400, "malformed chunk size");
                for (std::size_t j = rest; j < newline - 1; ++j)
                    if (!is(data[j], kValue)) return fail(400, "control character in a chunk extension");
                chunkPos_ = newline + 1;
                if (chunk == 0) {
                    phase_ = Phase::Trailer;
                    break;
                }
                if (chunkedBody_.size() + chunk > limits_.maxBodyBytes)
                    return fail(413, "the body exceeds the limit of " + std::to_string(limits_.maxBodyBytes) +
                                         " bytes");
                chunkRemaining_ = chunk;
                phase_ = Phase::ChunkData;
                break;
            }
            case Phase::ChunkData: {
                std::size_t available = size - chunkPos_;
                if (available == 0) return Status::NeedMore;
                std::size_t take =
                    static_cast<std::size_t>(std::min<std::uint64_t>(available, chunkRemaining_));
                chunkedBody_.append(data + chunkPos_, take);
                chunkPos_ += take;
                chunkRemaining_ -= take;
                if (chunkRemaining_ == 0) phase_ = Phase::ChunkDataEnd;
                break;
            }
            case Phase::ChunkDataEnd:
                if (size - chunkPos_ < 2) return Status::NeedMore;
                if (data[chunkPos_] != '\r' || data[chunkPos_ + 1] != '\n')
                    return fail(400, "chunk data must be followed by CRLF");
                chunkPos_ += 2;
                phase_ = Phase::ChunkSize;
                break;
            case Phase::Trailer: {
                const void* found = std::memchr(data + chunkPos_, '\n', size - chunkPos_);
                if (found == nullptr) {
                    if (trailerBytes_ + (size - chunkPos_) > limits_.maxHeaderBytes + 2)  // + the last CRLF
                        return fail(431, "the trailer section is too large");
                    return Status::NeedMore;
                }
                std::size_t newline = static_cast<std::size_t>(static_cast<const char*>(found) - data);
                if (trailerBytes_ + (newline - chunkPos_) >
                    limits_.maxHeaderBytes + 2)  // as if the LF came later
                    return fail(431, "the trailer section is too large");
                if (newline == chunkPos_ || data[newline - 1] != '\r')
                    return fail(400, "a trailer line must end in CRLF");
                if (newline == chunkPos_ + 1) {  // the empty line: done
                    consumed_ = newline + 1;
                    phase_ = Phase::Done;
                    return Status::Complete;
                }
                trailerBytes_ += newline + 1 - chunkPos_;
                if (trailerBytes_ > limits_.maxHeaderBytes)
                    return fail(431, "the trailer section is too large");
                // Trailer fields are checked like header fields, then dropped: nothing here uses them.
                if (!parseField(data, chunkPos_, newline - 1, true)) return Status::Error;
                chunkPos_ = newline + 1;
                break;
            }
            default:
                return Status::Error;
        }
    }
}

}  // namespace berth::server
