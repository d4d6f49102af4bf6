#pragma once
// Knobs of the event-driven engine, from the server.* and http.* keys of berth.properties.

#include <cstddef>
#include <string>

namespace berth::server {

struct EngineSettings {
    std::string address = "127.0.0.1";
    int port = 8080;
    int ioThreads = 0;  // 0: one per core
    int workerThreads = 16;
    std::size_t maxQueued = 1024;          // requests waiting for a worker before 503
    std::size_t maxConnections = 20000;    // open connections before new ones get 503 and close
    int headerTimeoutMs = 10000;           // first byte of a request to the end of its headers → 408
    int bodyTimeoutMs = 30000;             // no body bytes for this long → 408
    int idleTimeoutMs = 15000;             // keep-alive connection with nothing to do → closed
    int handlerTimeoutMs = 30000;          // handler still running → 504 and close
    int shutdownTimeoutMs = 10000;         // graceful stop: in-flight requests get this long
    std::size_t maxOutputBytes = 1 << 20;  // unread responses held for one client before it is closed
};

class RequestMetrics;
class AccessLog;
class SpanQueue;

/// Where the engine reports each answered request; any may be null (tests, access log off,
/// tracing off).
struct RequestObservers {
    RequestMetrics* metrics = nullptr;
    AccessLog* accessLog = nullptr;
    SpanQueue* spans = nullptr;  ///< server spans of sampled requests (trace/span_queue.h)
};

}  // namespace berth::server
