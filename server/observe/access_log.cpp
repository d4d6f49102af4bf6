#include "access_log.h"

#include <charconv>
#include <cstring>
#include <ctime>
#include <string_view>

#include "berth/json.h"
#include "berth/request.h"
#include "json_escape.h"

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

char* writeNumber(char* out, unsigned long long value) {
    return std::to_chars(out, out + 24, value).ptr;
}

char* writeLiteral(char* out, std::string_view text) {
    std::memcpy(out, text.data(), text.size());
    return out + text.size();
}

// Records of one batch mostly share their second: "YYYY-MM-DDTHH:MM:SS" is formatted once a second.
char* writeTimestamp(char* out, std::int64_t unixMs) {
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
    std::memcpy(out, cached, 19);
    out += 19;
    int ms = static_cast<int>(unixMs % 1000);
    *out++ = '.';
    *out++ = static_cast<char>('0' + ms / 100);
    *out++ = static_cast<char>('0' + ms / 10 % 10);
    *out++ = static_cast<char>('0' + ms % 10);
    *out++ = 'Z';
    return out;
}

// Microseconds as milliseconds with three decimals, without printf.
char* writeMilliseconds(char* out, std::uint32_t microseconds) {
    out = writeNumber(out, microseconds / 1000);
    unsigned rest = microseconds % 1000;
    *out++ = '.';
    *out++ = static_cast<char>('0' + rest / 100);
    *out++ = static_cast<char>('0' + rest / 10 % 10);
    *out++ = static_cast<char>('0' + rest % 10);
    return out;
}

}  // namespace

class AccessLog::Shard {
  public:
    std::mutex mutex;
    std::string pending;
};

AccessLog::AccessLog(const std::string& path, std::size_t rotateBytes, int keep)
    : file_(std::make_unique<RotatingFile>(path, rotateBytes, keep)) {}

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
    using internal::maxEscapedLength;
    using internal::writeJsonString;
    std::size_t at = 0;
    while (at + sizeof(StoredRecord) <= buffer.size()) {
        StoredRecord r;
        std::memcpy(&r, buffer.data() + at, sizeof r);
        at += sizeof r;
        std::string_view requestId = buffer.substr(at, r.requestIdLength);
        at += r.requestIdLength;
        std::string_view path = buffer.substr(at, r.pathLength);
        at += r.pathLength;
        std::string_view route = r.route;
        std::string_view plugin = r.plugin;
        // One resize per line, then plain pointer writes: appending piece by piece costs more.
        std::size_t used = lines.size();
        lines.resize(used + 192 + maxEscapedLength(path.size()) + maxEscapedLength(requestId.size()) +
                     maxEscapedLength(route.size()) + maxEscapedLength(plugin.size()));
        char* out = lines.data() + used;
        out = writeLiteral(out, "{\"timestamp\":\"");
        out = writeTimestamp(out, r.unixMs);
        out = writeLiteral(out, "\",\"method\":\"");
        out = writeLiteral(out, methodName(static_cast<Method>(r.method)));
        out = writeLiteral(out, "\",\"path\":");
        out = writeJsonString(out, path);
        out = writeLiteral(out, ",\"route\":");
        out = writeJsonString(out, route);
        out = writeLiteral(out, ",\"plugin\":");
        out = writeJsonString(out, plugin);
        out = writeLiteral(out, ",\"status\":");
        out = writeNumber(out, r.status);
        out = writeLiteral(out, ",\"bytes\":");
        out = writeNumber(out, r.bytes);
        out = writeLiteral(out, ",\"duration_ms\":");
        out = writeMilliseconds(out, r.durationUs);
        out = writeLiteral(out, ",\"request_id\":");
        out = writeJsonString(out, requestId);
        out = writeLiteral(out, "}\n");
        lines.resize(static_cast<std::size_t>(out - lines.data()));
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
    if (!lines.empty() && !file_->write(lines.data(), lines.size()))
        dropped_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace berth::server
