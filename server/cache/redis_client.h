#pragma once
// One connection to Redis for RedisPool: Poco::Redis' protocol types (Array, RedisType) and streams
// over a socket of our own. Hand-written because Poco 1.11's Redis::Client keeps its socket private
// and offers only a receive timeout: a pipeline written to a Redis that stopped reading (hung,
// SIGSTOP) fills the socket buffers and then blocks in send() for as long as Redis stays hung. Here
// every read and every write of the socket gives up after the I/O timeout, and a timeout is a
// Poco::TimeoutException (Poco's client reports a receive timeout as a lost connection). After any
// exception the client is unusable: the pool drops it.

#include <Poco/Net/StreamSocket.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/RedisStream.h>
#include <Poco/Redis/Type.h>
#include <Poco/Timespan.h>

#include <memory>
#include <string>
#include <vector>

namespace berth::server {

class RedisClient {
  public:
    using Replies = std::vector<Poco::Redis::RedisType::Ptr>;

    RedisClient() = default;
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    /// Connects to `host`:`port` within `connectTimeout` (the name lookup before it has no limit of
    /// its own) and sets `ioTimeout` on every later read and write of the socket. Throws
    /// Poco::Exception (Poco::TimeoutException when the connect timed out).
    void connect(const std::string& host, int port, Poco::Timespan connectTimeout, Poco::Timespan ioTimeout);
    void disconnect() noexcept;
    bool isConnected() const noexcept { return input_ != nullptr; }

    /// Writes every command, then reads one reply per command, in order (Redis' error replies
    /// included). Throws Poco::TimeoutException when one read or write of the socket waits longer
    /// than the I/O timeout, another Poco::Exception when the connection fails or a reply is not
    /// RESP.
    Replies send(const std::vector<Poco::Redis::Array>& commands);

  private:
    Poco::Redis::RedisType::Ptr readReply();

    Poco::Net::StreamSocket socket_;
    // Over socket_, made by connect(); null while not connected.
    std::unique_ptr<Poco::Redis::RedisInputStream> input_;
    std::unique_ptr<Poco::Redis::RedisOutputStream> output_;
};

}  // namespace berth::server
