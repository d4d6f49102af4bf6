#include "connection.h"

#include <Poco/Logger.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

#include "../observe/access_log.h"
#include "event_loop.h"
#include "pipeline.h"
#include "response_writer.h"
#include "worker_pool.h"

namespace berth::server {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// Pipelined requests read ahead while a handler runs or output backs up, before reading stops.
constexpr std::size_t kMaxReadAhead = 64 * 1024;
constexpr std::int64_t kLingerMs = 2000;
// A released std::string keeps its small inline buffer: below this it holds no pooled buffer.
constexpr std::size_t kMinOutputCapacity = 256;
constexpr const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

std::int64_t monotonicUs() {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

std::int64_t unixMs() {
    timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

Method methodOf(unsigned method) {
    switch (method) {
        case HTTP_GET:
            return Method::Get;
        case HTTP_HEAD:
            return Method::Head;
        case HTTP_POST:
            return Method::Post;
        case HTTP_PUT:
            return Method::Put;
        case HTTP_PATCH:
            return Method::Patch;
        case HTTP_DELETE:
            return Method::Delete;
        case HTTP_OPTIONS:
            return Method::Options;
        default:
            return Method::Other;
    }
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Absolute-form ("http://host/path?q") is answered like its origin-form: berthd serves one site.
std::string_view originForm(std::string_view target) {
    if (!target.empty() && target[0] == '/') return target;
    std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return target;
    std::size_t path = target.find_first_of("/?", scheme + 3);
    if (path == std::string_view::npos) return "/";
    return target.substr(path);  // "http://h?x" keeps no path and is refused by the router
}

}  // namespace

const http_parser_settings& Connection::parserSettings() {
    static const http_parser_settings settings = [] {
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_message_begin = &Connection::onMessageBegin;
        s.on_url = &Connection::onUrl;
        s.on_header_field = &Connection::onHeaderField;
        s.on_header_value = &Connection::onHeaderValue;
        s.on_headers_complete = &Connection::onHeadersComplete;
        s.on_body = &Connection::onBody;
        s.on_message_complete = &Connection::onMessageComplete;
        return s;
    }();
    return settings;
}

Connection::Connection(EventLoop& loop, int fd) : loop_(loop), fd_(fd) {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    lastActivityMs_ = loop_.nowMs();
}

Connection::~Connection() {
    if (fd_ >= 0) ::close(fd_);
    loop_.releaseInput(std::move(input_));
    loop_.releaseOutput(std::move(output_));
}

// --- http_parser callbacks: they only record spans; requests are served after execute() ---

int Connection::onMessageBegin(http_parser* parser) {
    auto* c = static_cast<Connection*>(parser->data);
    c->resetMessage();
    c->messageStarted_ = true;
    c->messageStartMs_ = c->loop_.nowMs();
    c->messageStartUs_ = monotonicUs();
    return 0;
}

bool Connection::grow(Span& span, const char* at, std::size_t length) {
    auto offset = static_cast<std::size_t>(at - input_.data());
    if (span.length == 0) {
        span.offset = static_cast<std::uint32_t>(offset);
        span.length = static_cast<std::uint32_t>(length);
        return true;
    }
    // Pieces of one element arrive back to back in input_ unless something was skipped
    // between them: for a header value that is an obs-fold line, which RFC 9112 lets us refuse.
    if (span.offset + span.length != offset) return false;
    span.length += static_cast<std::uint32_t>(length);
    return true;
}

int Connection::onUrl(http_parser* parser, const char* at, std::size_t length) {
    auto* c = static_cast<Connection*>(parser->data);
    c->grow(c->url_, at, length);
    if (c->url_.length > c->loop_.pipeline().limits().maxHeaderBytes) {
        c->pendingStatus_ = 414;
        c->pendingMessage_ = "URI too long";
        c->pendingDetail_ = "the request target exceeds " +
                            std::to_string(c->loop_.pipeline().limits().maxHeaderBytes) + " bytes";
        return -1;
    }
    return 0;
}

int Connection::onHeaderField(http_parser* parser, const char* at, std::size_t length) {
    auto* c = static_cast<Connection*>(parser->data);
    const HttpLimits& limits = c->loop_.pipeline().limits();
    if (c->headers_.empty() || c->lastWasValue_) {
        if (c->headers_.size() >= limits.maxHeaderCount) {
            c->pendingStatus_ = 431;
            c->pendingMessage_ = "request header fields too large";
            c->pendingDetail_ = "more than " + std::to_string(limits.maxHeaderCount) + " header fields";
            return -1;
        }
        c->headers_.emplace_back();
        c->headerBytes_ += 4;  // ": " and CRLF, as the pipeline counts them
    }
    c->lastWasValue_ = false;
    c->grow(c->headers_.back().name, at, length);
    c->headerBytes_ += length;
    if (c->headerBytes_ > limits.maxHeaderBytes) {
        c->pendingStatus_ = 431;
        c->pendingMessage_ = "request header fields too large";
        c->pendingDetail_ = "header fields exceed " + std::to_string(limits.maxHeaderBytes) + " bytes";
        return -1;
    }
    return 0;
}

int Connection::onHeaderValue(http_parser* parser, const char* at, std::size_t length) {
    auto* c = static_cast<Connection*>(parser->data);
    const HttpLimits& limits = c->loop_.pipeline().limits();
    HeaderSpan& header = c->headers_.back();
    if (!c->grow(header.value, at, length)) {
        c->pendingStatus_ = 400;
        c->pendingMessage_ = "bad request";
        c->pendingDetail_ = "folded header lines (obs-fold) are not accepted";
        return -1;
    }
    c->lastWasValue_ = true;
    c->headerBytes_ += length;
    if (c->headerBytes_ > limits.maxHeaderBytes) {
        c->pendingStatus_ = 431;
        c->pendingMessage_ = "request header fields too large";
        c->pendingDetail_ = "header fields exceed " + std::to_string(limits.maxHeaderBytes) + " bytes";
        return -1;
    }
    return 0;
}

int Connection::onHeadersComplete(http_parser* parser) {
    auto* c = static_cast<Connection*>(parser->data);
    c->headersDone_ = true;
    c->lastInputMs_ = c->loop_.nowMs();
    auto refuse = [c](int status, const char* message, std::string detail) {
        c->pendingStatus_ = status;
        c->pendingMessage_ = message;
        c->pendingDetail_ = std::move(detail);
        return -1;
    };
    if (parser->http_major != 1)
        return refuse(505, "HTTP version not supported",
                      "HTTP/" + std::to_string(parser->http_major) + "." +
                          std::to_string(parser->http_minor) + " is not served; use HTTP/1.1");
    int hosts = 0;
    std::string_view expect;
    for (const HeaderSpan& header : c->headers_) {
        std::string_view name = c->view(header.name);
        std::string_view value = c->view(header.value);
        if (name.empty() || name.back() == ' ' || name.back() == '\t')
            return refuse(400, "bad request", "whitespace between a header name and its colon");
        if (equalsIgnoreCase(name, "host")) ++hosts;
        if (equalsIgnoreCase(name, "expect")) expect = value;
    }
    if (hosts > 1) return refuse(400, "bad request", "more than one Host header");
    if (hosts == 0 && parser->http_minor >= 1)
        return refuse(400, "bad request", "HTTP/1.1 requires a Host header");

    const std::size_t maxBody = c->loop_.pipeline().limits().maxBodyBytes;
    const bool chunked = (parser->flags & F_CHUNKED) != 0;
    const bool hasLength = parser->content_length != ULLONG_MAX;
    if (hasLength && parser->content_length > maxBody)
        return refuse(413, "request body too large",
                      "the body exceeds the limit of " + std::to_string(maxBody) + " bytes");
    if (!expect.empty()) {
        if (!equalsIgnoreCase(expect, "100-continue"))
            return refuse(417, "expectation failed", "only Expect: 100-continue is understood");
        if (parser->http_minor >= 1 && (chunked || (hasLength && parser->content_length > 0)))
            c->output_.append(kContinue, sizeof kContinue - 1);
    }
    return 0;
}

int Connection::onBody(http_parser* parser, const char* at, std::size_t length) {
    auto* c = static_cast<Connection*>(parser->data);
    const std::size_t maxBody = c->loop_.pipeline().limits().maxBodyBytes;
    if (c->body_.size() + length > maxBody) {
        c->pendingStatus_ = 413;
        c->pendingMessage_ = "request body too large";
        c->pendingDetail_ = "the body exceeds the limit of " + std::to_string(maxBody) + " bytes";
        return -1;
    }
    c->body_.append(at, length);
    c->lastInputMs_ = c->loop_.nowMs();
    return 0;
}

int Connection::onMessageComplete(http_parser* parser) {
    auto* c = static_cast<Connection*>(parser->data);
    c->messageDone_ = true;
    // Stop after exactly this message: the next pipelined one is parsed once this one is answered.
    http_parser_pause(parser, 1);
    return 0;
}

// --- serving ---

void Connection::resetMessage() {
    messageStarted_ = headersDone_ = messageDone_ = lastWasValue_ = false;
    messageStartUs_ = 0;
    headerBytes_ = 0;
    url_ = {};
    headers_.clear();
    body_.clear();
}

void Connection::onReadable() {
    if (state_ != State::Reading && state_ != State::Lingering) return;
    while (true) {
        if (state_ == State::Reading && input_.size() - parsed_ >= kMaxReadAhead) break;  // resumes later
        if (input_.capacity() == 0) input_ = loop_.acquireInput();
        ssize_t n = ::recv(fd_, input_.prepare(kReadChunk), kReadChunk, 0);
        if (n > 0) {
            input_.commit(static_cast<std::size_t>(n));
            lastActivityMs_ = loop_.nowMs();
            if (state_ == State::Lingering) input_.clear();  // discarded: only the response matters now
            if (static_cast<std::size_t>(n) < kReadChunk) break;
            continue;
        }
        if (n == 0) {
            peerClosed_ = true;
            break;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        close();
        return;
    }
    if (state_ == State::Lingering) {
        if (peerClosed_) close();
        return;
    }
    process();
}

void Connection::process() {
    while (state_ == State::Reading && !closeAfterWrite_) {
        if (output_.size() - written_ > loop_.settings().maxOutputBytes) break;  // the client is not reading
        if (parsed_ == input_.size()) break;
        if (draining_ && !messageStarted_) {
            closeAfterWrite_ = true;
            break;
        }
        std::size_t n = http_parser_execute(&parser_, &parserSettings(), input_.data() + parsed_,
                                            input_.size() - parsed_);
        parsed_ += n;
        http_errno error = HTTP_PARSER_ERRNO(&parser_);
        if (error == HPE_PAUSED) {
            http_parser_pause(&parser_, 0);
            dispatch();
            continue;
        }
        if (error != HPE_OK) {
            if (pendingStatus_ != 0)
                failAndClose(pendingStatus_, pendingMessage_, pendingDetail_);
            else
                failAndClose(400, "bad request",
                             std::string("malformed request: ") + http_errno_description(error));
            return;
        }
        if (parser_.upgrade) {
            failAndClose(501, "not implemented", "protocol upgrades are not supported");
            return;
        }
    }
    if (peerClosed_ && state_ == State::Reading) {
        // Requests that arrived complete before the client's FIN still get their answers.
        if (messageStarted_ && !messageDone_) {
            close();
            return;
        }
        closeAfterWrite_ = true;
    }
    if (state_ == State::Reading) flush();
}

void Connection::dispatch() {
    request_.reset();
    request_.setMethod(methodOf(parser_.method));
    request_.setTarget(originForm(view(url_)));
    for (const HeaderSpan& header : headers_) request_.addHeader(view(header.name), view(header.value));
    request_.setBody(body_);
    keepAlive_ = http_should_keep_alive(&parser_) != 0 && !draining_ && !peerClosed_;
    headRequest_ = parser_.method == HTTP_HEAD;
    response_.reset();
    route_ = loop_.pipeline().prepare(request_, response_);
    if (route_ != nullptr && !route_->options.nonBlocking) {
        state_ = State::InHandler;
        handlerStartMs_ = loop_.nowMs();
        requestId_.assign(request_.requestId());
        if (loop_.workers().trySubmit({&Connection::runHandler, this})) return;
        state_ = State::Reading;
        response_.reset();
        loop_.pipeline().reject(request_, 503, "server busy",
                                "all workers are busy and the queue is full; retry later", response_);
        loop_.noteRefusal(503, "worker queue full");
    } else if (route_ != nullptr) {
        loop_.pipeline().run(*route_, request_, response_);
    }
    finishResponse();
}

void Connection::runHandler(void* argument) {
    auto* c = static_cast<Connection*>(argument);
    c->loop_.pipeline().run(*c->route_, c->request_, c->response_);
    c->loop_.handlerDone(c);
}

void Connection::onHandlerDone() {
    if (state_ == State::Abandoned) {
        state_ = State::Closed;  // answered with 504 already; the loop frees it now
        loop_.retire(this);
        return;
    }
    state_ = State::Reading;
    finishResponse();
    onReadable();  // edge-triggered: input that arrived meanwhile raised no new event
}

void Connection::observe(const HostRequest& request, const HttpResponse& response, std::size_t bodyBytes) {
    AccessRecord record;
    record.unixMs = unixMs();
    std::int64_t elapsed = messageStartUs_ != 0 ? monotonicUs() - messageStartUs_ : 0;
    record.durationUs = static_cast<std::uint32_t>(std::max<std::int64_t>(0, elapsed));
    record.bytes = static_cast<std::uint32_t>(bodyBytes);
    record.status = static_cast<std::uint16_t>(response.status);
    record.method = static_cast<std::uint8_t>(request.method());
    std::size_t series = 0;
    if (route_ != nullptr) {
        record.plugin = route_->mount->plugin.c_str();
        record.route = route_->pattern.source().c_str();
        series = route_->metricsSeries;
    }
    record.path = request.path();
    record.requestId = request.requestId();
    loop_.observe(record, series);
}

void Connection::finishResponse() {
    if (output_.capacity() < kMinOutputCapacity) output_ = loop_.acquireOutput();
    observe(request_, response_, response_.body.size());
    writeResponse(output_, response_, headRequest_, keepAlive_);
    if (!keepAlive_) closeAfterWrite_ = true;
    route_ = nullptr;
    resetMessage();
    lastActivityMs_ = loop_.nowMs();
    // Every view into input_ is dead now: drop the consumed bytes.
    input_.consume(parsed_);
    parsed_ = 0;
}

void Connection::failAndClose(int status, const char* message, const std::string& detail) {
    loop_.noteRefusal(status, detail);
    HostRequest request;  // the broken one may not even have a complete header section
    HttpResponse response;
    loop_.pipeline().reject(request, status, message, detail, response);
    route_ = nullptr;
    observe(request, response, response.body.size());
    if (output_.capacity() < kMinOutputCapacity) output_ = loop_.acquireOutput();
    writeResponse(output_, response, false, false);
    closeAfterWrite_ = true;
    flush();
}

void Connection::flush() {
    while (written_ < output_.size()) {
        ssize_t n = ::send(fd_, output_.data() + written_, output_.size() - written_, MSG_NOSIGNAL);
        if (n > 0) {
            written_ += static_cast<std::size_t>(n);
            lastActivityMs_ = loop_.nowMs();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes
        close();
        return;
    }
    output_.clear();
    written_ = 0;
    if (closeAfterWrite_) {
        // Close gracefully: a client still sending (a refused body, say) would otherwise get an
        // RST that can destroy the answer before it reads it.
        ::shutdown(fd_, SHUT_WR);
        state_ = State::Lingering;
        lastActivityMs_ = loop_.nowMs();
        if (peerClosed_) close();
        return;
    }
    // Idle: hand the buffers back to the loop, so an idle client costs a descriptor and no buffers.
    if (input_.empty() && !messageStarted_) {
        loop_.releaseInput(std::move(input_));
        loop_.releaseOutput(std::move(output_));
    }
}

void Connection::onWritable() {
    if (state_ != State::Reading || written_ >= output_.size()) return;
    flush();
    if (state_ == State::Reading) {
        process();
        onReadable();
    }
}

void Connection::checkTimeouts(std::int64_t now) {
    const EngineSettings& s = loop_.settings();
    switch (state_) {
        case State::Closed:
            return;
        case State::Abandoned:
            return;
        case State::Lingering:
            if (now - lastActivityMs_ > kLingerMs) close();
            return;
        case State::InHandler:
            if (now - handlerStartMs_ > s.handlerTimeoutMs) {
                // The worker still owns request_ and response_; answer from here and let the
                // object live until the worker lets go of it.
                loop_.noteRefusal(504, "handler timeout");
                HostRequest request;
                HttpResponse response;
                request.setRequestId(requestId_);
                loop_.pipeline().reject(
                    request, 504, "handler timed out",
                    "the handler did not finish within " + std::to_string(s.handlerTimeoutMs) + " ms",
                    response);
                std::string bytes;
                writeResponse(bytes, response, false, false);
                ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
                ::shutdown(fd_, SHUT_RDWR);
                state_ = State::Abandoned;
            }
            return;
        case State::Reading:
            break;
    }
    if (written_ < output_.size()) {
        if (now - lastActivityMs_ > s.idleTimeoutMs) close();  // the client stopped reading
        return;
    }
    if (messageStarted_ && !headersDone_) {
        if (now - messageStartMs_ > s.headerTimeoutMs)
            failAndClose(408, "request timeout", "the request headers did not arrive in time");
        return;
    }
    if (headersDone_ && !messageDone_) {
        if (now - lastInputMs_ > s.bodyTimeoutMs)
            failAndClose(408, "request timeout", "the request body stopped arriving");
        return;
    }
    if (now - lastActivityMs_ > s.idleTimeoutMs) close();
}

void Connection::drain() {
    draining_ = true;
    if (state_ == State::Reading && !messageStarted_ && written_ >= output_.size()) close();
}

void Connection::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (inHandler()) {
        state_ = State::Abandoned;
    } else if (state_ != State::Closed) {
        state_ = State::Closed;
        loop_.retire(this);
    }
}

}  // namespace berth::server
