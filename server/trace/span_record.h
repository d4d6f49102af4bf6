#pragma once
// Finished spans as they wait to be written: fixed-size binary records with their variable parts
// (path, name, tags) right behind them, so that recording one is a few copies and all JSON work
// waits for the writer. Read back with memcpy (the bytes are not aligned).

#include <cstdint>
#include <string_view>

#include "../observe/request_fields.h"

namespace berth::server {

struct Route;

enum class SpanKind : std::uint8_t { Local, Server, Client, Producer, Consumer };

enum SpanFlags : std::uint8_t {
    kSpanError = 1,  ///< a generic span whose "error" tag is set
    kSpanDebug = 2,  ///< B3 debug: reported with "debug": true
};

/// What a request's server span adds to what its access log record says (ServerSpanFields): made
/// on the request path, so it holds nothing the record has already.
struct ServerSpan {
    /// The route table's, stable while serving: name, plugin and pattern are read from it when the
    /// span is written, so the request path copies none of them.
    const Route* route = nullptr;
    std::uint64_t parentId = 0;  // 0: a root span
    std::int64_t startUs = 0;    // steady clock (the writer's clock offset makes it epoch time)
    std::uint8_t flags = 0;
    char spanHex[16];
};

/// The request's side of a server span: what its access log record says (traceId: 16 or 32 hex
/// digits).
using ServerSpanFields = RequestFields;

/// The fields of an access log record (AccessRecord, AccessLog::RecordView: they name them alike).
template <class Record>
ServerSpanFields spanFieldsOf(const Record& record) noexcept {
    ServerSpanFields fields;
    fields.path = record.path;
    fields.traceId = record.traceId;
    fields.durationUs = record.durationUs;
    fields.status = record.status;
    fields.method = record.method;
    return fields;
}

enum class RecordType : std::uint8_t { Server = 1, Generic = 2 };

/// A server span queued without an access log record to ride on: the fields ride along;
/// `pathLength` bytes of the path follow.
struct QueuedServerSpan {
    RecordType type = RecordType::Server;
    std::uint8_t method = 0;
    std::uint8_t traceHexLength = 0;
    std::uint16_t status = 0;
    std::uint16_t pathLength = 0;
    std::uint32_t durationUs = 0;
    ServerSpan span;
    char traceHex[32];
};

/// Any other span; `bodyLength` bytes follow: name, remote service, then tags, each a u16 length
/// (u32 for tag values) and the bytes.
struct GenericSpanRecord {
    RecordType type = RecordType::Generic;
    SpanKind kind = SpanKind::Local;
    std::uint8_t flags = 0;
    std::uint32_t bodyLength = 0;
    std::uint64_t traceHigh = 0, traceLow = 0, spanId = 0, parentId = 0;
    std::int64_t startUs = 0;
    std::uint32_t durationUs = 0;
};

}  // namespace berth::server
