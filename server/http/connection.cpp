#include "connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "../observe/access_log.h"
#include "../observe/request_metrics.h"
#include "../trace/span_record.h"
#include "../trace/trace_clock.h"
#include "event_loop.h"
#include "pipeline.h"
#include "response_writer.h"
#include "worker_pool.h"

namespace berth::server {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::int64_t kLingerMs = 2000;
// A response body's buffer is kept for the connection's next response up to this size: the JSON
// writers reserve room for the worst case (6 bytes per string byte), which a large reply would
// otherwise pin for as long as the keep-alive connection lives.
constexpr std::size_t kMaxKeptBodyCapacity = 64 * 1024;
// Pipelined requests served in one go before the loop moves on to other connections.
constexpr int kRequestsPerTurn = 32;
// Reads discarded in one go from a client still sending after its last answer.
constexpr int kDiscardReadsPerTurn = 4;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

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

// Absolute-form ("http://host/path?q") is answered like its origin-form: berthd serves one site.
std::string_view originForm(std::string_view target) {
    if (!target.empty() && target[0] == '/') return target;
    std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return target;
    std::size_t path = target.find_first_of("/?", scheme + 3);
    if (path == std::string_view::npos) return "/";
    return target.substr(path);  // "http://h?x" keeps no path and is refused by the router
}

const char* messageFor(int status) {
    switch (status) {
        case 408:
            return "request timeout";
        case 413:
            return "request body too large";
        case 414:
            return "URI too long";
        case 417:
            return "expectation failed";
        case 431:
            return "request header fields too large";
        case 501:
            return "not implemented";
        case 503:
            return "server busy";
        case 504:
            return "handler timed out";
        case 505:
            return "HTTP version not supported";
        default:
            return "bad request";
    }
}

}  // namespace

Connection::Connection(EventLoop& loop, int fd) : loop_(loop), fd_(fd), parser_(loop.parserLimits()) {
    lastActivityMs_ = loop_.nowMs();
}

Connection::~Connection() {
    if (fd_ >= 0) {
        loop_.unwatch(fd_);
        ::close(fd_);
    }
    loop_.releaseInput(std::move(input_));
    loop_.releaseOutput(std::move(output_));
}

void Connection::resetMessage() {
    messageStarted_ = headersDone_ = false;
    messageStartUs_ = 0;
    parser_.reset();
}

bool Connection::outputBacklogged() const noexcept {
    return output_.size() - written_ > loop_.settings().maxOutputBytes;
}

bool Connection::readSome() {
    // Enough for the largest acceptable message plus a read: the parser refuses anything beyond.
    const std::size_t cap = parser_.maxMessageBytes() + kReadChunk;
    int discarded = 0;
    while (true) {
        if (state_ == State::Reading && (input_.size() >= cap || outputBacklogged())) return false;
        if (input_.capacity() == 0) input_ = loop_.acquireInput();
        ssize_t n = ::recv(fd_, input_.prepare(kReadChunk), kReadChunk, 0);
        if (n > 0) {
            lastActivityMs_ = lastInputMs_ = loop_.nowMs();
            if (state_ == State::Lingering) {
                input_.clear();  // discarded: only the answer already sent matters now
                if (++discarded == kDiscardReadsPerTurn) return false;  // others get the loop too
                continue;
            }
            input_.commit(static_cast<std::size_t>(n));
            // A short read means the socket is empty, unless epoll also said the peer closed:
            // then read once more to see the end, which edge-triggered epoll will not report again.
            if (static_cast<std::size_t>(n) < kReadChunk && !hangUp_) return true;
            continue;
        }
        if (n == 0) {
            peerClosed_ = true;
            return true;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        close();
        return true;
    }
}

void Connection::onReadable(bool hangUp) {
    hangUp_ = hangUp_ || hangUp;
    while (state_ == State::Reading || state_ == State::Lingering) {
        bool drained = readSome();
        if (state_ == State::Lingering) {
            if (peerClosed_ || loop_.nowMs() - lingerStartMs_ > kLingerMs)
                close();
            else if (!drained)
                loop_.schedule(this);  // still sending: discard more after the loop's other work
            return;
        }
        if (state_ != State::Reading) return;
        process();
        // Edge-triggered: if reading stopped early, read again once processing made room, unless
        // this connection used up its turn (the loop comes back to it).
        if (drained || scheduled || state_ != State::Reading || closeAfterWrite_ || outputBacklogged())
            return;
    }
}

void Connection::process() {
    int served = 0;
    bool more = false;  // requests may still be waiting in input_
    while (state_ == State::Reading && !closeAfterWrite_) {
        // A client that pipelines thousands of requests gets a turn, not the whole loop.
        if (outputBacklogged() || served == kRequestsPerTurn) {
            more = true;
            break;
        }
        if (!messageStarted_) {
            // RFC 9112 2.2: empty lines before a request line are to be ignored.
            std::size_t skip = 0;
            while (skip + 1 < input_.size() && input_.data()[skip] == '\r' && input_.data()[skip + 1] == '\n')
                skip += 2;
            if (skip > 0) input_.consume(skip);
            // A lone CR may be half of such a line: wait for what follows it.
            if (input_.empty() || (input_.size() == 1 && input_.data()[0] == '\r')) break;
            if (draining_) {
                closeAfterWrite_ = true;
                break;
            }
            messageStarted_ = true;
            messageStartMs_ = loop_.nowMs();
            messageStartUs_ = monotonicUs();
        }
        RequestParser::Status status = parser_.parse(input_.data(), input_.size());
        if (status == RequestParser::Status::HeadersDone) {
            headersDone_ = true;
            if (parser_.expectsContinue() && parser_.minorVersion() >= 1) {
                if (output_.capacity() == 0) output_ = loop_.acquireOutput();
                output_.append(kContinue.data(), kContinue.size());
            }
            status = parser_.parse(input_.data(), input_.size());
        }
        if (status == RequestParser::Status::NeedMore) {
            // Cannot happen while maxMessageBytes() holds; if it did, the loop would spin on a
            // full buffer.
            if (input_.size() > parser_.maxMessageBytes()) failAndClose(413, "the request is too large");
            break;
        }
        if (status == RequestParser::Status::Error) {
            failAndClose(parser_.errorStatus(), parser_.errorDetail());
            return;
        }
        dispatch();
        ++served;
    }
    if (!more && peerClosed_ && state_ == State::Reading) {
        // Requests that arrived complete before the client's FIN still get their answers (an
        // unfinished one after them never will).
        closeAfterWrite_ = true;
    }
    if (state_ == State::Reading) flush();
    // Come back after the loop's other connections had theirs: no event would wake this one, as
    // its input is already read. (While output is backed up, EPOLLOUT brings it back instead.)
    if (more && state_ == State::Reading && !outputBacklogged()) loop_.schedule(this);
}

void Connection::dispatch() {
    request_.reset();
    request_.setMethod(parser_.method());
    request_.setMethodText(view(parser_.methodText()));
    request_.setTarget(originForm(view(parser_.target())));
    for (const RequestParser::Field& field : parser_.fields())
        request_.addHeader(view(field.name), view(field.value));
    request_.setBody(parser_.body(input_.data()));
    // A half-closed peer still gets every complete request answered; process() closes after them.
    keepAlive_ = parser_.keepAlive() && !draining_;
    headRequest_ = parser_.method() == Method::Head;
    http10_ = parser_.minorVersion() == 0;
    response_.reset();
    if (RequestMetrics::Shard* metrics = loop_.metrics()) metrics->inFlightAdd(1);
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
        // Answered with 504 already; the worker is done with the request, so record it now.
        HttpResponse timedOut;
        timedOut.status = 504;
        observe(request_, timedOut);
        if (RequestMetrics::Shard* metrics = loop_.metrics()) metrics->inFlightAdd(-1);
        state_ = State::Closed;
        loop_.retire(this);
        return;
    }
    state_ = State::Reading;
    finishResponse();
    flush();
    onReadable();  // edge-triggered: input that arrived meanwhile raised no new event
}

void Connection::observe(const HostRequest& request, const HttpResponse& response) {
    AccessRecord record;
    record.unixMs = unixMs();
    std::int64_t elapsed = messageStartUs_ != 0 ? monotonicUs() - messageStartUs_ : 0;
    record.durationUs = spanDurationUs(elapsed);
    record.bytes = static_cast<std::uint32_t>(response.body.size());
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
    const RequestTrace& trace = request.trace();
    // Empty unless traced with ids. The request id itself when it is the trace id: the access log
    // then stores and quotes it once.
    record.traceId = trace.traceIsRequestId ? request.requestId() : trace.traceIdText();
    if (trace.context.sampled && route_ != nullptr) {
        ServerSpan span;  // what the server span adds to the record
        span.route = route_;
        span.parentId = trace.context.parentId;
        span.startUs = messageStartUs_;  // the clock of trace/trace_clock.h
        span.flags = trace.context.debug ? kSpanDebug : 0;
        std::memcpy(span.spanHex, trace.spanHex, sizeof span.spanHex);
        record.span = {reinterpret_cast<const char*>(&span), sizeof span};
        loop_.observe(record, series);
        return;
    }
    loop_.observe(record, series);
}

void Connection::finishResponse() {
    if (output_.capacity() == 0) output_ = loop_.acquireOutput();
    observe(request_, response_);
    if (RequestMetrics::Shard* metrics = loop_.metrics()) metrics->inFlightAdd(-1);
    if (draining_) keepAlive_ = false;  // shutting down: this answer is the connection's last
    writeResponse(output_, response_, headRequest_, keepAlive_, http10_);
    if (response_.body.capacity() > kMaxKeptBodyCapacity) std::string().swap(response_.body);
    if (!keepAlive_) closeAfterWrite_ = true;
    route_ = nullptr;
    lastActivityMs_ = loop_.nowMs();
    // Every view into input_ is dead now: drop this message's bytes.
    input_.consume(parser_.consumed());
    resetMessage();
}

void Connection::failAndClose(int status, const std::string& detail) {
    loop_.noteRefusal(status, detail);
    // The fields parsed so far (all of them for a 413) still count: the request id to echo and
    // the Origin that decides whether a browser may read this answer.
    HostRequest request;
    for (const RequestParser::Field& field : parser_.fields())
        request.addHeader(view(field.name), view(field.value));
    HttpResponse response;
    loop_.pipeline().reject(request, status, messageFor(status), detail, response);
    route_ = nullptr;
    observe(request, response);
    if (output_.capacity() == 0) output_ = loop_.acquireOutput();
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
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!watchingWritable_) loop_.watchWritable(this, watchingWritable_ = true);  // EPOLLOUT resumes
            return;
        }
        close();
        return;
    }
    output_.clear();
    written_ = 0;
    if (watchingWritable_) loop_.watchWritable(this, watchingWritable_ = false);
    if (closeAfterWrite_) {
        // Close gracefully: a client still sending (a refused body, say) would otherwise get an
        // RST that can destroy the answer before it reads it.
        ::shutdown(fd_, SHUT_WR);
        state_ = State::Lingering;
        lingerStartMs_ = loop_.nowMs();
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
    if (state_ == State::Reading) onReadable();
}

void Connection::checkTimeouts(std::int64_t now) {
    const EngineSettings& s = loop_.settings();
    switch (state_) {
        case State::Closed:
        case State::Abandoned:
            return;
        case State::Lingering:
            if (now - lingerStartMs_ > kLingerMs) close();  // however much the client still sends
            return;
        case State::InHandler:
            if (now - handlerStartMs_ > s.handlerTimeoutMs) {
                // The worker still owns request_ and response_; answer from here and let the
                // object live until the worker lets go of it.
                loop_.noteRefusal(504, "handler timeout");
                HostRequest request;
                HttpResponse response;
                request.addHeader("X-Request-Id", requestId_);  // the same id the client got or sent
                // Its trace too (decided before the handoff; the worker only reads it): the 504
                // names the trace the handler's spans are in.
                request.trace() = request_.trace();
                loop_.pipeline().reject(
                    request, 504, messageFor(504),
                    "the handler did not finish within " + std::to_string(s.handlerTimeoutMs / 1000) + " s",
                    response);
                // Only between responses: in the middle of a half-sent one it would corrupt it.
                if (written_ >= output_.size()) {
                    std::string bytes;
                    writeResponse(bytes, response, false, false);
                    ssize_t ignored = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
                    (void)ignored;
                }
                ::shutdown(fd_, SHUT_RDWR);
                state_ = State::Abandoned;
            }
            return;
        case State::Reading:
            break;
    }
    if (written_ < output_.size()) {
        if (now - lastActivityMs_ > s.idleTimeoutMs) {
            // The client stopped reading: reset the connection, so that the kernel drops the
            // answers still queued for it at once instead of holding them in FIN-WAIT.
            linger reset{1, 0};
            ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
            close();
        }
        return;
    }
    if (messageStarted_ && !headersDone_) {
        if (now - messageStartMs_ > s.headerTimeoutMs)
            failAndClose(408, "the request headers did not arrive within " +
                                  std::to_string(s.headerTimeoutMs / 1000) + " s");
        return;
    }
    if (headersDone_) {
        if (now - lastInputMs_ > s.bodyTimeoutMs)
            failAndClose(408, "the request body stopped arriving for " +
                                  std::to_string(s.bodyTimeoutMs / 1000) + " s");
        return;
    }
    if (now - lastActivityMs_ > s.idleTimeoutMs) close();
}

void Connection::abandonForShutdown() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void Connection::drain() {
    draining_ = true;
    if (state_ == State::Reading && !messageStarted_ && written_ >= output_.size()) close();
}

void Connection::close() {
    if (fd_ >= 0) {
        loop_.unwatch(fd_);
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
