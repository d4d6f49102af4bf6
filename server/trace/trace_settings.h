#pragma once
// tracing.* of conf/berth.properties: whether requests are traced, how many are sampled, and
// where finished spans go (a Zipkin collector over HTTP and/or a file). Every key is checked at
// start; a wrong value is a configuration problem (berthd does not start; --check-config says so).

#include <cstddef>
#include <string>
#include <vector>

namespace Poco::Util {
class AbstractConfiguration;
}

namespace berth::server {

struct TraceSettings {
    bool enabled = false;                // tracing.enabled
    double sampleRate = 1.0;             // tracing.sample_rate: share of new traces recorded, 0..1
    std::string serviceName = "berthd";  // tracing.service_name: localEndpoint.serviceName
    /// tracing.zipkin.url, split: empty host means no collector.
    std::string zipkinUrl;
    std::string zipkinHost;
    int zipkinPort = 9411;
    std::string zipkinPath;                    // path and query, "/api/v2/spans" when the URL has none
    int zipkinTimeoutMs = 5000;                // tracing.zipkin.timeout_ms: connect, send and receive each
    int retries = 5;                           // tracing.zipkin.retries: further attempts per batch
    int backoffInitialMs = 250;                // tracing.zipkin.backoff_initial_ms, doubled per failure...
    int backoffMaxMs = 10000;                  // ...up to tracing.zipkin.backoff_max_ms
    std::string file;                          // tracing.file: JSON lines; empty: none
    std::size_t fileRotateBytes = 100u << 20;  // tracing.file_rotate_mb
    int fileKeep = 5;                          // tracing.file_keep
    std::size_t queueSize = 20000;  // tracing.queue_size: spans waiting, per I/O thread and for the rest
    std::size_t batchSize = 1000;   // tracing.batch_size: spans per POST
    int flushIntervalMs = 250;      // tracing.flush_interval_ms
    int shutdownTimeoutMs = 5000;   // tracing.shutdown_timeout_ms: flushing at stop
};

/// Reads tracing.* (relative tracing.file against `confDir`); problems are appended to `problems`.
TraceSettings loadTraceSettings(const Poco::Util::AbstractConfiguration& config, const std::string& confDir,
                                std::vector<std::string>& problems);

/// The keys loadTraceSettings() reads, without "tracing.".
std::vector<std::string> traceKeyNames();

}  // namespace berth::server
