#include "raw_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace berth::test {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

std::string shown(const std::string& bytes) {
    constexpr std::size_t kShown = 2000;
    return bytes.size() <= kShown
               ? bytes
               : bytes.substr(0, kShown) + "\n[... " + std::to_string(bytes.size() - kShown) + " more bytes]";
}

}  // namespace

RawConnection::RawConnection(int port, int receiveBuffer) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    if (receiveBuffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc;
    do {
        rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int error = errno;
        ::close(fd_);
        fd_ = -1;
        throw std::system_error(error, std::generic_category(),
                                "connect to 127.0.0.1:" + std::to_string(port));
    }
}

RawConnection::~RawConnection() {
    close();
}

void RawConnection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void RawConnection::shutdownWrite() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool RawConnection::send(std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return false;
    }
    return true;
}

std::size_t RawConnection::sendUntilStalled(std::string_view bytes, int stallMs) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd poller{fd_, POLLOUT, 0};
            int ready = ::poll(&poller, 1, stallMs);
            if (ready > 0 && (poller.revents & POLLOUT)) continue;
            if (ready < 0 && errno == EINTR) continue;
        }
        break;  // stalled, or the connection failed
    }
    return sent;
}

bool RawConnection::sendSlowly(std::string_view bytes, std::size_t pieceSize, int pauseMs) {
    for (std::size_t at = 0; at < bytes.size(); at += pieceSize) {
        if (at > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pauseMs));
        if (!send(bytes.substr(at, pieceSize))) return false;
    }
    return true;
}

long RawConnection::readSome(int timeoutMs) {
    if (fd_ < 0 || peerClosed_) return 0;
    pollfd poller{fd_, POLLIN, 0};
    int ready;
    do {
        ready = ::poll(&poller, 1, timeoutMs);
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) return -1;
    char buffer[16384];
    while (true) {
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n > 0) {
            pending_.append(buffer, static_cast<std::size_t>(n));
            return n;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -1;
        peerClosed_ = true;  // FIN, or reset
        return 0;
    }
}

std::size_t completeResponseLength(const std::string& bytes, bool head) {
    std::size_t end = bytes.find("\r\n\r\n");
    if (end == std::string::npos) return 0;
    HttpResult result;
    std::size_t bodyStart = parseHead(bytes, 0, result);
    std::string length = result.header("Content-Length");
    std::size_t size = head || length.empty() ? 0 : static_cast<std::size_t>(std::stoull(length));
    if (result.status < 200 && result.status >= 100) size = 0;
    return bytes.size() >= bodyStart + size ? bodyStart + size : 0;
}

HttpResult RawConnection::readResponse(int timeoutMs, bool head) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (true) {
        std::size_t length = pending_.empty() ? 0 : completeResponseLength(pending_, head);
        if (length > 0) {
            HttpResult result;
            std::size_t bodyStart = parseHead(pending_, 0, result);
            result.body = pending_.substr(bodyStart, length - bodyStart);
            pending_.erase(0, length);
            return result;
        }
        long n = readSome(remainingMs(deadline));
        if (n == 0)
            throw std::runtime_error("the server closed the connection before a whole answer; received:\n" +
                                     shown(pending_));
        if (n < 0 && Clock::now() >= deadline)
            throw std::runtime_error("no whole answer within " + std::to_string(timeoutMs) +
                                     " ms; received:\n" + shown(pending_));
    }
}

bool RawConnection::readUntil(std::string_view text, int timeoutMs) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (pending_.find(text) == std::string::npos) {
        long n = readSome(remainingMs(deadline));
        if (n == 0) return pending_.find(text) != std::string::npos;
        if (n < 0 && Clock::now() >= deadline) return false;
    }
    return true;
}

bool RawConnection::waitForClose(int timeoutMs) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (!peerClosed_) {
        long n = readSome(remainingMs(deadline));
        if (n < 0 && Clock::now() >= deadline) return false;
    }
    return true;
}

int RawConnection::tcpState() const {
    tcp_info info{};
    socklen_t length = sizeof info;
    if (fd_ < 0 || getsockopt(fd_, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    return info.tcpi_state;
}

std::size_t countAnswers(int fd, const std::string& marker, std::size_t expected, int timeoutMs,
                         bool& closed) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    std::string tail;  // the last bytes of the previous read: a marker split across reads counts once
    std::size_t count = 0;
    std::vector<char> buffer(1 << 20);
    closed = false;
    while (count < expected && Clock::now() < deadline) {
        pollfd poller{fd, POLLIN, 0};
        if (::poll(&poller, 1, 100) <= 0) continue;
        ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            closed = true;
            break;
        }
        std::string chunk = tail + std::string(buffer.data(), static_cast<std::size_t>(n));
        for (std::size_t at = chunk.find(marker); at != std::string::npos; at = chunk.find(marker, at + 1))
            ++count;
        const std::size_t keep = std::min(chunk.size(), marker.size() - 1);
        tail = chunk.substr(chunk.size() - keep);
    }
    return count;
}

bool RawConnection::serverReleased() const {
    sockaddr_in local{}, remote{};
    socklen_t length = sizeof local;
    if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) return true;
    length = sizeof remote;
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&remote), &length) != 0) return true;
    // The server's end: local address = our peer, remote address = us. Addresses in
    // /proc/net/tcp are the raw network-order words in hex; ports in host order.
    char serverEnd[32], clientEnd[32];
    std::snprintf(serverEnd, sizeof serverEnd, "%08X:%04X", remote.sin_addr.s_addr, ntohs(remote.sin_port));
    std::snprintf(clientEnd, sizeof clientEnd, "%08X:%04X", local.sin_addr.s_addr, ntohs(local.sin_port));
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // header
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, from, to, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> from >> to >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
        if (from == serverEnd && to == clientEnd) return inode == "0";
    }
    return true;
}

long residentKb(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.compare(0, 6, "VmRSS:") == 0) return std::stol(line.substr(6));
    }
    return -1;
}

}  // namespace berth::test
