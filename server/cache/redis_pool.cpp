#include "redis_pool.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Redis/Exception.h>
#include <Poco/Timespan.h>
#include <algorithm>

namespace berth::server {
namespace {

constexpr auto kWarnEvery = std::chrono::seconds(10);

Poco::Timespan milliseconds(int ms) {
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms) * 1000);
}

// Throws when Redis answered `command` with an error (AUTH, SELECT at connect).
void expectOk(RedisClient& client, const Poco::Redis::Array& command, const char* what) {
    Poco::Redis::RedisType::Ptr reply = client.send({command}).front();
    if (reply->isError())
        throw Poco::Redis::RedisException(std::string(what) + " refused: " + reply->toString().substr(1));
}

}  // namespace

RedisPool::RedisPool(CacheSettings settings, Poco::Logger& logger)
    : settings_(std::move(settings)),
      logger_(logger),
      pool_(static_cast<std::size_t>(settings_.poolSize), static_cast<std::size_t>(settings_.poolSize)) {}

RedisPool::~RedisPool() = default;

void RedisPool::connect(RedisConnection& c) {
    // AUTH and SELECT are commands like any other: command_timeout_ms, not connect_timeout_ms.
    c.client.connect(settings_.host, settings_.port, milliseconds(settings_.connectTimeoutMs),
                     milliseconds(settings_.commandTimeoutMs));
    // Poco 1.11 has no Command::auth/select: plain arrays.
    if (!settings_.password.empty()) {
        Poco::Redis::Array auth;
        auth << "AUTH" << settings_.password;
        expectOk(c.client, auth, "AUTH");
    }
    if (settings_.db != 0) {
        Poco::Redis::Array select;
        select << "SELECT" << std::to_string(settings_.db);
        expectOk(c.client, select, "SELECT");
    }
    c.generation = generation_.load();
    connects_.fetch_add(1, std::memory_order_relaxed);
}

std::optional<RedisPool::Replies> RedisPool::skip() {
    std::uint64_t skipped = skipped_.fetch_add(1, std::memory_order_relaxed) + 1;
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (down_ && Clock::now() - lastWarning_ >= kWarnEvery) {
        lastWarning_ = Clock::now();
        logger_.warning("Redis %s still unavailable: %s cache calls skipped in the last %d s (%s in all)",
                        settings_.describe(), std::to_string(skipped - skippedAtWarning_),
                        static_cast<int>(kWarnEvery.count()), std::to_string(skipped));
        skippedAtWarning_ = skipped;
    }
    return std::nullopt;
}

RedisPool::Admission RedisPool::admit() {
    if (!down_.load(std::memory_order_relaxed)) return Admission::Closed;
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (!down_) return Admission::Closed;
    if (probing_ || Clock::now() < downUntil_) return Admission::Refused;
    probing_ = true;  // this call is the probe; the others keep skipping until it is done
    return Admission::Probe;
}

void RedisPool::markUp() {
    if (!down_.load(std::memory_order_relaxed)) return;
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (!down_) return;
    down_ = false;
    probing_ = false;
    backoffMs_ = 0;
    logger_.information("Redis %s answers again: caching resumed (%s cache calls skipped in all)",
                        settings_.describe(), std::to_string(skipped_.load()));
}

void RedisPool::markDown(const std::string& reason, bool probe) {
    std::lock_guard<std::mutex> lock(stateMutex_);
    lastFailure_ = reason;
    if (down_ && !probe) return;  // a call under way when the breaker opened: the same outage
    if (down_) {
        probing_ = false;
        backoffMs_ = std::min(backoffMs_ * 2, settings_.backoffMaxMs);
    } else {
        backoffMs_ = settings_.backoffInitialMs;
    }
    downUntil_ = Clock::now() + std::chrono::milliseconds(backoffMs_);
    if (!down_) {
        down_ = true;
        lastWarning_ = Clock::now();
        skippedAtWarning_ = skipped_.load();
        logger_.warning(
            "Redis %s unavailable (%s): cache reads miss and writes are skipped until it answers again",
            settings_.describe(), reason);
    }
}

void RedisPool::endProbe(bool probe) {
    if (!probe) return;
    std::lock_guard<std::mutex> lock(stateMutex_);
    probing_ = false;
}

void RedisPool::release(RedisConnection* c) {
    inUse_.fetch_sub(1, std::memory_order_relaxed);
    pool_.returnObject(c);  // destroyed there when broken or disconnected
}

std::optional<RedisPool::Replies> RedisPool::run(const std::vector<Poco::Redis::Array>& commands,
                                                 bool retryable) {
    Admission admission = admit();
    if (admission == Admission::Refused) return skip();
    return send(commands, retryable, true, admission == Admission::Probe);
}

std::optional<RedisPool::Replies> RedisPool::send(const std::vector<Poco::Redis::Array>& commands,
                                                  bool retryable, bool countSkips, bool probe) {
    for (int attempt = 0;; ++attempt) {
        RedisConnection* c = nullptr;
        try {
            c = pool_.borrowObject(settings_.poolWaitMs);
        } catch (...) {
        }
        if (c == nullptr) {
            poolTimeouts_.fetch_add(1, std::memory_order_relaxed);
            endProbe(probe);
            return countSkips ? skip() : std::nullopt;
        }
        inUse_.fetch_add(1, std::memory_order_relaxed);
        bool fresh = false;
        if (!c->client.isConnected() || c->generation != generation_.load()) {
            fresh = true;
            try {
                connect(*c);
            } catch (const std::exception& e) {
                c->broken = true;
                release(c);
                connectFailures_.fetch_add(1, std::memory_order_relaxed);
                const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
                markDown(poco != nullptr ? poco->displayText() : std::string(e.what()), probe);
                return countSkips ? skip() : std::nullopt;
            }
        }
        try {
            Replies replies = c->client.send(commands);
            release(c);
            markUp();
            return replies;
        } catch (const std::exception& e) {
            c->broken = true;
            release(c);
            failures_.fetch_add(1, std::memory_order_relaxed);
            bool timeout = dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr;
            const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
            std::string reason = poco != nullptr ? poco->displayText() : std::string(e.what());
            if (!fresh && !timeout) {
                // A client that idled in the pool died (Redis restarted): so did its idle peers.
                generation_.fetch_add(1);
                if (retryable && attempt == 0) continue;
                endProbe(probe);
                return std::nullopt;  // counted as a failure; the next call connects afresh
            }
            markDown(reason, probe);
            return countSkips ? skip() : std::nullopt;
        }
    }
}

void RedisPool::probe() {
    std::string why = ping();
    if (why.empty())
        logger_.information("Redis %s answers (pool of %d)", settings_.describe(), settings_.poolSize);
    else if (available())  // markDown() has not said it
        logger_.warning("Redis %s at start: %s", settings_.describe(), why);
}

std::string RedisPool::ping() {
    // Not run(): a PING is no cache call and must not count as a skipped one (berth_redis_skipped_total,
    // the "calls skipped" warning). While the breaker is open it answers why at once, unless it is the
    // breaker's due probe: then it tries, so that /ready alone finds Redis back.
    std::optional<Replies> replies;
    Admission admission = admit();
    if (admission != Admission::Refused) {
        Poco::Redis::Array ping;
        ping << "PING";
        replies = send({ping}, true, false, admission == Admission::Probe);
    }
    if (replies && !replies->empty() && !replies->front()->isError()) return "";
    if (replies && !replies->empty()) return "PING refused: " + replies->front()->toString().substr(1);
    std::lock_guard<std::mutex> lock(stateMutex_);
    if (down_) return "unavailable: " + lastFailure_;
    return "no answer (no free client within redis.pool_wait_ms = " + std::to_string(settings_.poolWaitMs) +
           " ms, or the connection was lost)";
}

CacheStats RedisPool::stats() const {
    CacheStats s;
    s.configured = true;
    s.up = !down_.load();
    s.endpoint = settings_.describe();
    s.poolSize = settings_.poolSize;
    s.open = static_cast<int>(pool_.size());
    s.inUse = inUse_.load();
    s.connects = connects_.load();
    s.connectFailures = connectFailures_.load();
    s.failures = failures_.load();
    s.errors = errors_.load();
    s.skipped = skipped_.load();
    s.poolTimeouts = poolTimeouts_.load();
    return s;
}

}  // namespace berth::server
