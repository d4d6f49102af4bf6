#pragma once
// The access log, kept off the request path: an I/O loop appends a compact binary record to
// its own shard (one uncontended lock, no formatting); a background thread swaps the shards'
// buffers a few times a second, formats one JSON line per request and appends the batch to a
// size-rotated file with one write.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "request_fields.h"
#include "rotating_file.h"

namespace berth::server {

class ByteBuffer;
namespace access_line {
class LineWriter;
}

struct AccessRecord {
    std::int64_t unixMs = 0;
    std::uint32_t durationUs = 0;
    std::uint32_t bytes = 0;
    std::uint16_t status = 0;
    std::uint8_t method = 0;  // berth::Method
    /// Owned by the route table and stable while serving. The writer keeps their escaped text
    /// by pointer, so the text at a pointer must not change, nor the pointer be reused for
    /// other text, while the AccessLog exists.
    const char* plugin = "";
    const char* route = "";
    std::string_view path;  // as the client sent it: escaped when written
    /// Empty, made by generateRequestId (32 hex digits) or accepted by isSaneRequestId
    /// (http/request_id.h): the writer then copies it between quotes without escaping. It
    /// still checks, cheaply, and escapes anything else, so a broken precondition costs
    /// instructions, never a malformed line. At most 255 bytes are kept.
    std::string_view requestId;
    /// The request's trace id (hex) when it was traced, else empty: then no trace_id is written.
    /// Escaped like requestId; at most 254 bytes are kept. The very view of requestId when the
    /// trace id is the request id: then it is stored and quoted once.
    std::string_view traceId;
    /// The tracer's record of the request's server span (trace/span_record.h) when it was
    /// sampled, else empty: copied with the record and given to the SpanListener. At most 255 bytes.
    std::string_view span;
    /// The size of that record (ServerSpan), which is copied with fixed-size moves.
    static constexpr std::size_t kSpanBytes = 48;
};

class AccessLog {
  public:
    class Shard;

    /// Throws std::system_error when the file cannot be opened.
    AccessLog(const std::string& path, std::size_t rotateBytes, int keep);
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    /// One per producing thread (each I/O loop); valid until the AccessLog is destroyed.
    Shard* createShard();
    /// Copies the record into the shard; drops it (and counts the drop) when the writer is behind.
    void record(Shard* shard, const AccessRecord& record) noexcept;

    /// Gets the records' `span` bytes on the writer thread, each with its line: so the tracer's
    /// server spans ride on the access log (one record, one copy, one lock per request) instead of
    /// a queue of their own. A record the access log drops takes its span with it.
    /// What the record said, as the writer passes it on with the span (views valid for the call).
    using RecordView = RequestFields;
    class SpanListener {
      public:
        virtual ~SpanListener() = default;
        /// Appends the lines of the records in `batch` to `lines` with `writer`, as its writeAll()
        /// does, writing each record's span as its line is written: one pass over the records,
        /// with the span's writer inlined in it.
        virtual void writeLines(const ByteBuffer& batch, access_line::LineWriter& writer,
                                ByteBuffer& lines) = 0;
        /// After each flush's records: hand the spans on.
        virtual void onFlushEnd() noexcept = 0;
        /// `count` records that carried a span were dropped (any thread): their spans are lost too.
        virtual void onSpansDropped(std::size_t count) noexcept = 0;
    };
    /// Null: spans are not passed on. The listener must outlive the writer (stop()).
    void setSpanListener(SpanListener* listener) noexcept { spanListener_.store(listener); }

    void start();
    /// Writes what is pending, then stops the writer thread.
    void stop();
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

  private:
    class Writer;

    void writerLoop();
    void flushShards();

    std::unique_ptr<RotatingFile> file_;
    std::unique_ptr<Writer> writerState_;  // used by the writer thread, then by stop() after the join
    std::mutex shardsMutex_;
    std::vector<std::unique_ptr<Shard>> shards_;
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<SpanListener*> spanListener_{nullptr};
    std::thread writer_;
    std::mutex wakeMutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
};

}  // namespace berth::server
