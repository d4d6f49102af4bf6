#include "host_cache.h"

#include <Poco/Logger.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Type.h>
#include <stdexcept>

#include "../trace/span_scope.h"
#include "redis_pool.h"

namespace berth::server {
namespace {

using Op = CacheCommand::Op;

const char* opName(Op op) {
    switch (op) {
        case Op::Get:
            return "get";
        case Op::Set:
            return "set";
        case Op::Del:
            return "del";
        case Op::Exists:
            return "exists";
        case Op::Expire:
            return "expire";
        case Op::Incr:
            return "incr";
        case Op::HGet:
            return "hget";
        case Op::HSet:
            return "hset";
        case Op::HDel:
            return "hdel";
        case Op::HGetAll:
            return "hgetall";
        case Op::MGet:
            return "mget";
    }
    return "?";
}

bool hasControl(const std::string& s) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

void checkKey(const std::string& key, const std::string& what) {
    if (key.empty()) throw std::invalid_argument(what + "empty key");
    if (hasControl(key)) throw std::invalid_argument(what + "the key contains a control character");
}

// Programming errors, thrown before anything is sent.
void check(const CacheCommand& c) {
    std::string what = std::string("cache ") + opName(c.op) + ": ";
    if (c.op == Op::MGet) {
        if (c.keys.empty()) throw std::invalid_argument(what + "no keys");
        for (const std::string& key : c.keys) checkKey(key, what);
        return;
    }
    checkKey(c.key, what);
    bool hashField = c.op == Op::HGet || c.op == Op::HSet || c.op == Op::HDel;
    if (hashField && c.field.empty()) throw std::invalid_argument(what + "empty field");
    if ((c.op == Op::Set || c.op == Op::Expire) && c.number < 0)
        throw std::invalid_argument(what + "negative TTL");
}

std::optional<std::string> bulk(const Poco::Redis::RedisType::Ptr& reply) {
    auto* b = dynamic_cast<const Poco::Redis::Type<Poco::Redis::BulkString>*>(reply.get());
    if (b == nullptr || b->value().isNull()) return std::nullopt;
    return b->value().value();
}

// False when the reply is not of the type the command answers (a Redis error, or foreign data).
bool fill(const CacheCommand& c, const Poco::Redis::RedisType::Ptr& reply, CacheResult& r) {
    if (reply.isNull() || reply->isError()) return false;
    switch (c.op) {
        case Op::Get:
        case Op::HGet:
            if (!reply->isBulkString()) return false;
            r.value = bulk(reply);
            return true;
        case Op::Set:
            return reply->isSimpleString();
        case Op::MGet: {
            auto* arr = dynamic_cast<const Poco::Redis::Type<Poco::Redis::Array>*>(reply.get());
            if (arr == nullptr || arr->value().isNull() || arr->value().size() != c.keys.size()) return false;
            r.values.reserve(c.keys.size());
            for (const Poco::Redis::RedisType::Ptr& item : arr->value()) {
                if (!item->isBulkString()) return false;
                r.values.push_back(bulk(item));
            }
            return true;
        }
        case Op::HGetAll: {
            auto* arr = dynamic_cast<const Poco::Redis::Type<Poco::Redis::Array>*>(reply.get());
            if (arr == nullptr) return false;
            const Poco::Redis::Array& items = arr->value();
            if (items.isNull()) return true;
            std::optional<std::string> field;
            for (const Poco::Redis::RedisType::Ptr& item : items) {
                std::optional<std::string> text = bulk(item);
                if (!text) return false;
                if (!field) {
                    field = std::move(text);
                } else {
                    r.fields.emplace(std::move(*field), std::move(*text));
                    field.reset();
                }
            }
            return true;
        }
        default: {
            auto* n = dynamic_cast<const Poco::Redis::Type<Poco::Int64>*>(reply.get());
            if (n == nullptr) return false;
            r.integer = n->value();
            return true;
        }
    }
}

}  // namespace

Poco::Redis::Array redisCommand(const CacheCommand& c, const std::string& prefix) {
    Poco::Redis::Array a;
    std::string key = prefix + c.key;
    switch (c.op) {
        case Op::Get:
            a << "GET" << key;
            break;
        case Op::Set:
            a << "SET" << key << c.value;
            if (c.number > 0) a << "EX" << std::to_string(c.number);
            break;
        case Op::Del:
            a << "DEL" << key;
            break;
        case Op::Exists:
            a << "EXISTS" << key;
            break;
        case Op::Expire:
            a << "EXPIRE" << key << std::to_string(c.number);
            break;
        case Op::Incr:
            a << "INCRBY" << key << std::to_string(c.number);
            break;
        case Op::HGet:
            a << "HGET" << key << c.field;
            break;
        case Op::HSet:
            a << "HSET" << key << c.field << c.value;
            break;
        case Op::HDel:
            a << "HDEL" << key << c.field;
            break;
        case Op::HGetAll:
            a << "HGETALL" << key;
            break;
        case Op::MGet:
            a << "MGET";
            for (const std::string& each : c.keys) a << prefix + each;
            break;
    }
    return a;
}

HostCache::HostCache(const std::string& keyPrefix, const std::string& plugin, RedisPool* pool)
    : prefix_(keyPrefix + plugin + ":"),
      pool_(pool),
      logger_(Poco::Logger::get(plugin.empty() ? std::string("berth.cache") : "berth." + plugin)) {}

bool HostCache::available() const {
    return pool_ != nullptr && pool_->available();
}

std::vector<CacheResult> HostCache::execute(const std::vector<CacheCommand>& commands) {
    for (const CacheCommand& c : commands) check(c);
    std::vector<CacheResult> results(commands.size());
    if (pool_ == nullptr || commands.empty()) return results;
    std::vector<Poco::Redis::Array> redis;
    redis.reserve(commands.size());
    bool retryable = true;
    for (const CacheCommand& c : commands) {
        redis.push_back(redisCommand(c, prefix_));
        if (c.op == Op::Incr) retryable = false;
    }
    // One span per round trip (a pipeline's commands share it), named by the command or
    // "pipeline"; the command names are a tag, keys and values never are.
    SpanScope span(commands.size() == 1 ? opName(commands[0].op) : "pipeline", SpanKind::Client, "redis");
    if (span.recording()) {
        std::string names;
        for (const CacheCommand& c : commands)
            names += (names.empty() ? "" : " ") + std::string(opName(c.op));
        span.tag("db.type", "redis").tag("redis.commands", names);
    }
    std::optional<RedisPool::Replies> replies = pool_->run(redis, retryable);
    if (!replies || replies->size() != commands.size()) {
        span.error("Redis did not answer (down, slow or unreachable): the calls missed or were skipped");
        return results;
    }
    for (std::size_t i = 0; i < commands.size(); ++i) {
        results[i].ok = fill(commands[i], (*replies)[i], results[i]);
        if (!results[i].ok) {
            results[i] = CacheResult{};
            pool_->countError();
            span.error(std::string("Redis refused ") + opName(commands[i].op));
        }
    }
    return results;
}

}  // namespace berth::server
