#include "berth/cache.h"

#include <utility>

namespace berth {
inline namespace v1 {

namespace {

CacheCommand make(CacheCommand::Op op, std::string_view key, std::string_view field = {},
                  std::string_view value = {}, std::int64_t number = 0) {
    CacheCommand c;
    c.op = op;
    c.key = std::string(key);
    c.field = std::string(field);
    c.value = std::string(value);
    c.number = number;
    return c;
}

CacheCommand mgetOf(const std::vector<std::string>& keys) {
    CacheCommand c;
    c.op = CacheCommand::Op::MGet;
    c.keys = keys;
    return c;
}

}  // namespace

Cache::~Cache() = default;

CacheResult Cache::one(CacheCommand command) {
    std::vector<CacheResult> results = execute({std::move(command)});
    return results.empty() ? CacheResult{} : std::move(results[0]);
}

std::optional<std::string> Cache::get(std::string_view key) {
    return one(make(CacheCommand::Op::Get, key)).value;
}

bool Cache::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
    return one(make(CacheCommand::Op::Set, key, {}, value, ttl.count())).ok;
}

bool Cache::del(std::string_view key) {
    return one(make(CacheCommand::Op::Del, key)).ok;
}

bool Cache::exists(std::string_view key) {
    CacheResult r = one(make(CacheCommand::Op::Exists, key));
    return r.ok && r.integer > 0;
}

bool Cache::expire(std::string_view key, std::chrono::seconds ttl) {
    CacheResult r = one(make(CacheCommand::Op::Expire, key, {}, {}, ttl.count()));
    return r.ok && r.integer > 0;
}

std::optional<std::int64_t> Cache::incr(std::string_view key, std::int64_t by) {
    CacheResult r = one(make(CacheCommand::Op::Incr, key, {}, {}, by));
    if (!r.ok) return std::nullopt;
    return r.integer;
}

std::optional<std::string> Cache::hget(std::string_view key, std::string_view field) {
    return one(make(CacheCommand::Op::HGet, key, field)).value;
}

bool Cache::hset(std::string_view key, std::string_view field, std::string_view value) {
    return one(make(CacheCommand::Op::HSet, key, field, value)).ok;
}

bool Cache::hdel(std::string_view key, std::string_view field) {
    return one(make(CacheCommand::Op::HDel, key, field)).ok;
}

std::map<std::string, std::string> Cache::hgetall(std::string_view key) {
    return one(make(CacheCommand::Op::HGetAll, key)).fields;
}

std::vector<std::optional<std::string>> Cache::mget(const std::vector<std::string>& keys) {
    if (keys.empty()) return {};
    CacheResult r = one(mgetOf(keys));
    if (!r.ok || r.values.size() != keys.size()) return std::vector<std::optional<std::string>>(keys.size());
    return std::move(r.values);
}

// --- CachePipeline -------------------------------------------------------------------------

CachePipeline& CachePipeline::get(std::string_view key) {
    commands_.push_back(make(CacheCommand::Op::Get, key));
    return *this;
}

CachePipeline& CachePipeline::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
    commands_.push_back(make(CacheCommand::Op::Set, key, {}, value, ttl.count()));
    return *this;
}

CachePipeline& CachePipeline::del(std::string_view key) {
    commands_.push_back(make(CacheCommand::Op::Del, key));
    return *this;
}

CachePipeline& CachePipeline::exists(std::string_view key) {
    commands_.push_back(make(CacheCommand::Op::Exists, key));
    return *this;
}

CachePipeline& CachePipeline::expire(std::string_view key, std::chrono::seconds ttl) {
    commands_.push_back(make(CacheCommand::Op::Expire, key, {}, {}, ttl.count()));
    return *this;
}

CachePipeline& CachePipeline::incr(std::string_view key, std::int64_t by) {
    commands_.push_back(make(CacheCommand::Op::Incr, key, {}, {}, by));
    return *this;
}

CachePipeline& CachePipeline::hget(std::string_view key, std::string_view field) {
    commands_.push_back(make(CacheCommand::Op::HGet, key, field));
    return *this;
}

CachePipeline& CachePipeline::hset(std::string_view key, std::string_view field, std::string_view value) {
    commands_.push_back(make(CacheCommand::Op::HSet, key, field, value));
    return *this;
}

CachePipeline& CachePipeline::hdel(std::string_view key, std::string_view field) {
    commands_.push_back(make(CacheCommand::Op::HDel, key, field));
    return *this;
}

CachePipeline& CachePipeline::hgetall(std::string_view key) {
    commands_.push_back(make(CacheCommand::Op::HGetAll, key));
    return *this;
}

CachePipeline& CachePipeline::mget(const std::vector<std::string>& keys) {
    commands_.push_back(mgetOf(keys));
    return *this;
}

std::vector<CacheResult> CachePipeline::execute() {
    std::vector<CacheCommand> commands;
    commands.swap(commands_);
    if (commands.empty()) return {};
    return cache_->execute(commands);
}

}  // namespace v1
}  // namespace berth
