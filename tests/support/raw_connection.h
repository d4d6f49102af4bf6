#pragma once
// A raw TCP client for the engine tests, for what HttpProbe cannot do: keep one connection open
// across many requests, send a request in pieces with pauses, read exactly one answer at a time,
// watch for the server closing, shrink the receive buffer and never read. Plus a few probes of
// the berthd process itself (its resident memory) and of a socket's TCP state.
//
//     berth::test::RawConnection c(berthd.port());
//     c.send("GET /health HTTP/1.1\r\nHost: e2e\r\n\r\n");
//     berth::test::HttpResult r = c.readResponse();    // one answer, framed by Content-Length
//     bool closed = c.waitForClose(3000);               // the server closed (FIN or RST)

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "http_probe.h"

namespace berth::test {

class RawConnection {
  public:
    /// Connects to 127.0.0.1:port (blocking, with TCP_NODELAY). `receiveBuffer` > 0 sets
    /// SO_RCVBUF before the connect, so the window the server sees is small from the start.
    /// Throws std::system_error (the connect's errno) when the connection is refused.
    explicit RawConnection(int port, int receiveBuffer = 0);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    int fd() const noexcept { return fd_; }

    /// Sends all of `bytes`; false when the server closed or reset the connection.
    bool send(std::string_view bytes);
    /// Sends as much of `bytes` as the connection takes, giving up once no byte could be sent
    /// for `stallMs` (the peer stopped reading) or the connection failed; returns the bytes sent.
    std::size_t sendUntilStalled(std::string_view bytes, int stallMs);
    /// Sends `bytes` in pieces of `pieceSize` with `pauseMs` between them; false as for send().
    bool sendSlowly(std::string_view bytes, std::size_t pieceSize, int pauseMs);

    /// Reads exactly one answer (head and Content-Length body; none for `head`) and removes it
    /// from pending(). Throws std::runtime_error, naming what arrived, when the answer is not
    /// complete within `timeoutMs` or the server closes first.
    HttpResult readResponse(int timeoutMs = 5000, bool head = false);
    /// Reads until `text` is in pending(); false on timeout or close.
    bool readUntil(std::string_view text, int timeoutMs);
    /// Reads (into pending()) until the server closes the connection: recv() returns 0 or the
    /// connection is reset. True when that happened within `timeoutMs`.
    bool waitForClose(int timeoutMs);
    /// True once a read saw the server's FIN or a reset.
    bool closedByPeer() const noexcept { return peerClosed_; }
    /// Received bytes no readResponse() has taken yet.
    const std::string& pending() const noexcept { return pending_; }
    /// The connection's state as the kernel sees it (TCP_ESTABLISHED, TCP_CLOSE_WAIT, ... from
    /// <netinet/tcp.h>), without reading anything.
    int tcpState() const;
    /// True once the server has let go of its end of this connection (over loopback, from
    /// /proc/net/tcp): its socket is gone or orphaned (no process holds it). Sees a close even
    /// when the server's FIN cannot reach this end, e.g. queued behind data this end never read.
    bool serverReleased() const;
    /// Half-closes the sending side (FIN).
    void shutdownWrite();
    void close();

  private:
    /// Waits up to `timeoutMs` for input and reads it into pending_: bytes read, 0 when the
    /// peer closed, -1 when nothing arrived in time.
    long readSome(int timeoutMs);

    int fd_ = -1;
    std::string pending_;
    bool peerClosed_ = false;
};

/// The first complete answer in `bytes` (Content-Length framed) and its length; 0 when incomplete.
std::size_t completeResponseLength(const std::string& bytes, bool head);

/// Reads from `fd` until `expected` occurrences of `marker` (a status line, say) have arrived,
/// the peer closes (`closed`), or `timeoutMs` passes; returns how many arrived. For floods of
/// answers too many to parse one by one.
std::size_t countAnswers(int fd, const std::string& marker, std::size_t expected, int timeoutMs,
                         bool& closed);

/// VmRSS of a process in KiB, from /proc/<pid>/status; -1 when it cannot be read.
long residentKb(pid_t pid);

/// Milliseconds since `start`, as a double.
inline double millisSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace berth::test
