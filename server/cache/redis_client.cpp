#include "redis_client.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Redis/Exception.h>

namespace berth::server {

RedisClient::~RedisClient() {
    disconnect();
}

void RedisClient::connect(const std::string& host, int port, Poco::Timespan connectTimeout,
                          Poco::Timespan ioTimeout) {
    disconnect();
    socket_ = Poco::Net::StreamSocket();
    socket_.connect(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)), connectTimeout);
    socket_.setSendTimeout(ioTimeout);
    socket_.setReceiveTimeout(ioTimeout);
    input_ = std::make_unique<Poco::Redis::RedisInputStream>(socket_);
    output_ = std::make_unique<Poco::Redis::RedisOutputStream>(socket_);
    // std::istream and std::ostream swallow what the socket throws (a timeout, a reset) into badbit,
    // which would turn a timeout into a short read; with badbit set here they rethrow it.
    input_->exceptions(std::ios::badbit);
    output_->exceptions(std::ios::badbit);
}

void RedisClient::disconnect() noexcept {
    input_.reset();
    output_.reset();
    try {
        socket_.close();
    } catch (...) {
    }
}

RedisClient::Replies RedisClient::send(const std::vector<Poco::Redis::Array>& commands) {
    if (!isConnected()) throw Poco::Net::NetException("the Redis client is not connected");
    for (const Poco::Redis::Array& command : commands) {
        std::string text = command.toString();
        output_->write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    output_->flush();
    if (!output_->good()) throw Poco::Net::NetException("writing to Redis failed");
    Replies replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(readReply());
    return replies;
}

Poco::Redis::RedisType::Ptr RedisClient::readReply() {
    int marker = input_->get();
    if (marker == std::char_traits<char>::eof())
        throw Poco::Net::ConnectionResetException("Redis closed the connection");
    Poco::Redis::RedisType::Ptr reply = Poco::Redis::RedisType::createRedisType(static_cast<char>(marker));
    if (reply.isNull())
        throw Poco::Redis::RedisException("not a Redis reply (type marker " + std::to_string(marker) + ")");
    reply->read(*input_);
    if (!input_->good()) throw Poco::Net::ConnectionResetException("Redis closed the connection mid-reply");
    return reply;
}

}  // namespace berth::server
