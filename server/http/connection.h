#pragma once
// One client connection on an I/O loop: bytes in, the request parser, the request handed to
// the pipeline (inline or on a worker), bytes out. Owned and touched only by its loop, except
// for `request_`/`response_` while a worker runs the handler (the loop leaves them alone then).

#include <cstdint>
#include <string>
#include <string_view>

#include "byte_buffer.h"
#include "host_request.h"
#include "http_response.h"
#include "request_parser.h"

namespace berth::server {

class EventLoop;
struct AccessRecord;
struct Route;

class Connection {
  public:
    Connection(EventLoop& loop, int fd);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    int fd() const noexcept { return fd_; }
    /// Index in the loop's connection list, kept by the loop.
    std::size_t loopSlot = 0;
    /// In the loop's list of connections to give another turn to.
    bool scheduled = false;

    /// epoll said readable: read what is there and serve every complete request.
    /// `hangUp`: epoll reported EPOLLRDHUP/EPOLLHUP with this event.
    void onReadable(bool hangUp = false);
    /// epoll said writable: flush pending output, then continue with pipelined input.
    void onWritable();
    /// The worker finished the handler: send its response and go on.
    void onHandlerDone();
    /// Timer sweep: enforces the header, body, idle, write and handler timeouts.
    void checkTimeouts(std::int64_t nowMs);
    /// Graceful shutdown: close now if idle, else after the current response.
    void drain();

    /// Closed and not referenced by a worker: the loop may free it.
    bool finished() const noexcept { return state_ == State::Closed; }
    /// A worker holds it past the shutdown deadline: cut the client off, the object stays.
    void abandonForShutdown();
    bool inHandler() const noexcept { return state_ == State::InHandler || state_ == State::Abandoned; }

    /// Runs on a worker thread.
    static void runHandler(void* connection);

  private:
    // Reading: parsing and answering; InHandler: a worker runs the handler; Abandoned: the
    // handler timed out and was answered, the worker still holds the request; Lingering: the
    // last answer is sent, discarding input until the client closes; Closed: done.
    enum class State { Reading, InHandler, Abandoned, Lingering, Closed };

    /// Reads until the socket is drained (true) or enough is buffered for now (false).
    bool readSome();
    /// Parses buffered input and serves complete requests until more input is needed, a
    /// handler is running, or output backs up.
    void process();
    void dispatch();
    void finishResponse();
    /// Sends an error envelope and closes after it: used for anything that breaks framing.
    void failAndClose(int status, const std::string& detail);
    /// Reports an answered request to the metrics, the access log and (when sampled) the tracer.
    void observe(const HostRequest& request, const HttpResponse& response);
    void flush();
    void close();
    bool outputBacklogged() const noexcept;
    std::string_view view(RequestParser::Span span) const noexcept {
        return {input_.data() + span.offset, span.length};
    }
    void resetMessage();

    EventLoop& loop_;
    int fd_;
    State state_ = State::Reading;
    RequestParser parser_;

    ByteBuffer input_;
    bool messageStarted_ = false;  // a request's first byte has arrived
    bool headersDone_ = false;
    bool peerClosed_ = false;
    bool closeAfterWrite_ = false;
    bool draining_ = false;
    bool watchingWritable_ = false;
    bool hangUp_ = false;  // the peer's FIN was reported; read until recv returns 0

    std::int64_t messageStartMs_ = 0;
    std::int64_t messageStartUs_ = 0;  // precise, for the latency metric
    std::int64_t lastInputMs_ = 0;
    std::int64_t lastActivityMs_ = 0;
    std::int64_t handlerStartMs_ = 0;
    std::int64_t lingerStartMs_ = 0;

    HostRequest request_;
    HttpResponse response_;
    const Route* route_ = nullptr;
    bool keepAlive_ = true;
    bool headRequest_ = false;
    bool http10_ = false;
    std::string requestId_;  // a copy, for the 504 sent while the worker still owns request_

    ByteBuffer output_;
    std::size_t written_ = 0;
};

}  // namespace berth::server
