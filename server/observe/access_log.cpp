#include "access_log.h"

#include <Poco/Logger.h>

#include <charconv>
#include <cstring>
#include <ctime>

#include "berth/json.h"
#include "berth/request.h"

namespace berth::server {
namespace {

constexpr std::size_t kMaxPendingBytes = 8 * 1024 * 1024;
constexpr auto kFlushInterval = std::chrono::milliseconds(200);

// The fixed part of a record as stored; the path and request id bytes follow it.
struct StoredRecord {
    std::int64_t unixMs;
    std::uint32_t durationUs;
    std::uint32_t bytes;
    const char* plugin;
    const char* route;
    std::uint16_t status;
    std::uint8_t method;
    std::uint8_t requestIdLength;
    std::uint32_t pathLength;
};

void appendNumber(std::string& out, unsigned long long value) {
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

// Records of one batch mostly share their second: format "YYYY-MM-DDTHH:MM:SS" once per second.
void appendTimestamp(std::string& out, std::int64_t unixMs) {
    thread_local std::int64_t cachedSecond = -1;
    thread_local char cached[24];
    std::int64_t second = unixMs / 1000;
    if (second != cachedSecond) {
        std::time_t seconds = static_cast<std::time_t>(second);
        std::tm utc;
        gmtime_r(&seconds, &utc);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &utc);
        cachedSecond = second;
    }
    out.append(cached, 19);
    int ms = static_cast<int>(unixMs % 1000);
    char fraction[6] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                        static_cast<char>('0' + ms % 10), 'Z'};
    out.append(fraction, 5);
}

// Microseconds as milliseconds with three decimals, without printf.
void appendMilliseconds(std::string& out, std::uint32_t microseconds) {
    appendNumber(out, microseconds / 1000);
    unsigned rest = microseconds % 1000;
    char fraction[4] = {'.', static_cast<char>('0' + rest / 100), static_cast<char>('0' + rest / 10 % 10),
                        static_cast<char>('0' + rest % 10)};
    out.append(fraction, 4);
}

}  // namespace

class AccessLog::Shard {
  public:
    std::mutex mutex;
    std::string pending;
};

AccessLog::AccessLog(Poco::Logger& logger) : logger_(logger) {}

AccessLog::~AccessLog() {
    stop();
}

AccessLog::Shard* AccessLog::createShard() {
    std::lock_guard<std::mutex> lock(shardsMutex_);
    shards_.push_back(std::make_unique<Shard>());
    return shards_.back().get();
}

void AccessLog::record(Shard* shard, const AccessRecord& record) noexcept {
    StoredRecord stored{record.unixMs,
                        record.durationUs,
                        record.bytes,
                        record.plugin,
                        record.route,
                        record.status,
                        record.method,
                        static_cast<std::uint8_t>(std::min<std::size_t>(record.requestId.size(), 255)),
                        static_cast<std::uint32_t>(std::min<std::size_t>(record.path.size(), 65535))};
    std::lock_guard<std::mutex> lock(shard->mutex);
    if (shard->pending.size() > kMaxPendingBytes) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    try {
        shard->pending.append(reinterpret_cast<const char*>(&stored), sizeof stored);
        shard->pending.append(record.requestId.data(), stored.requestIdLength);
        shard->pending.append(record.path.data(), stored.pathLength);
    } catch (...) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
    }
}

void AccessLog::format(std::string_view buffer, std::string& lines) {
    std::size_t at = 0;
    while (at + sizeof(StoredRecord) <= buffer.size()) {
        StoredRecord r;
        std::memcpy(&r, buffer.data() + at, sizeof r);
        at += sizeof r;
        std::string_view requestId = buffer.substr(at, r.requestIdLength);
        at += r.requestIdLength;
        std::string_view path = buffer.substr(at, r.pathLength);
        at += r.pathLength;
        std::string& line = lines;
        if (!line.empty()) line.push_back('\n');
        line += "{\"timestamp\":\"";
        appendTimestamp(line, r.unixMs);
        line += "\",\"method\":\"";
        line += methodName(static_cast<Method>(r.method));
        line += "\",\"path\":";
        appendJsonString(line, path);
        line += ",\"route\":";
        appendJsonString(line, r.route);
        line += ",\"plugin\":";
        appendJsonString(line, r.plugin);
        line += ",\"status\":";
        appendNumber(line, r.status);
        line += ",\"bytes\":";
        appendNumber(line, r.bytes);
        line += ",\"duration_ms\":";
        appendMilliseconds(line, r.durationUs);
        line += ",\"request_id\":";
        appendJsonString(line, requestId);
        line += "}";
    }
}

void AccessLog::start() {
    if (writer_.joinable()) return;
    stopping_ = false;
    writer_ = std::thread([this] { writerLoop(); });
}

void AccessLog::stop() {
    {
        std::lock_guard<std::mutex> lock(wakeMutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (writer_.joinable()) writer_.join();
    flushShards();
}

void AccessLog::writerLoop() {
    std::unique_lock<std::mutex> lock(wakeMutex_);
    while (!stopping_) {
        wake_.wait_for(lock, kFlushInterval, [this] { return stopping_; });
        lock.unlock();
        flushShards();
        lock.lock();
    }
}

void AccessLog::flushShards() {
    std::vector<Shard*> shards;
    {
        std::lock_guard<std::mutex> lock(shardsMutex_);
        for (auto& shard : shards_) shards.push_back(shard.get());
    }
    // One log message per batch: the channel then writes (and rotates) once per batch, not per
    // request, which is most of what an access log costs.
    std::string batch;
    std::string lines;
    for (Shard* shard : shards) {
        {
            std::lock_guard<std::mutex> lock(shard->mutex);
            batch.swap(shard->pending);
        }
        format(batch, lines);
        batch.clear();
    }
    if (!lines.empty()) logger_.information(lines);
}

}  // namespace berth::server
