#include "trace_settings.h"

#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/Path.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <cmath>

#include "../app/service_settings_reader.h"

namespace berth::server {
namespace {

const std::vector<std::string> kTopKeys = {
    "enabled",           "sample_rate",         "service_name", "file",
    "file_rotate_mb",    "file_keep",           "queue_size",   "batch_size",
    "flush_interval_ms", "shutdown_timeout_ms", "zipkin"};
const std::vector<std::string> kZipkinKeys = {"url", "timeout_ms", "retries", "backoff_initial_ms",
                                              "backoff_max_ms"};

// Splits an http:// collector URL; a problem is appended when it is not one.
void parseCollectorUrl(const std::string& url, TraceSettings& t, std::vector<std::string>& problems) {
    const std::string where = "tracing.zipkin.url = '" + url + "'";
    try {
        Poco::URI uri(url);
        if (uri.getScheme() != "http") {
            problems.push_back(where +
                               ": only http:// collectors are supported (put a TLS proxy in front of "
                               "an https one)");
            return;
        }
        if (uri.getHost().empty()) {
            problems.push_back(where + ": no host");
            return;
        }
        t.zipkinHost = uri.getHost();
        t.zipkinPort = uri.getPort();
        t.zipkinPath = uri.getPathAndQuery();
        // "http://zipkin:9411/" names the collector, not its "/" (which answers 404 forever).
        if (uri.getPath().empty() || uri.getPath() == "/") {
            t.zipkinPath = "/api/v2/spans";
            if (!uri.getRawQuery().empty()) t.zipkinPath += "?" + uri.getRawQuery();
        }
        t.zipkinUrl = url;
    } catch (const Poco::Exception& e) {
        problems.push_back(where + " is not a URL: " + e.displayText());
    }
}

}  // namespace

TraceSettings loadTraceSettings(const Poco::Util::AbstractConfiguration& config, const std::string& confDir,
                                std::vector<std::string>& problems) {
    TraceSettings t;
    reportUnknownKeys(config, "tracing", kTopKeys, problems);
    reportUnknownKeys(config, "tracing.zipkin", kZipkinKeys, problems);
    // An undefined ${...} here is a problem, not a reason to run without tracing.
    std::string undefined;
    ServiceSettingsReader read(config, "tracing.", problems, undefined);

    std::string enabled = Poco::toLower(read.text("enabled", "false"));
    if (enabled == "true" || enabled == "yes" || enabled == "on" || enabled == "1")
        t.enabled = true;
    else if (!(enabled == "false" || enabled == "no" || enabled == "off" || enabled == "0"))
        problems.push_back("tracing.enabled = '" + enabled + "' is not a boolean (true/false)");

    std::string rate = read.text("sample_rate", "");
    if (!rate.empty()) {
        double value = -1;
        if (!Poco::NumberParser::tryParseFloat(rate, value) || !std::isfinite(value) || value < 0 ||
            value > 1)
            problems.push_back("tracing.sample_rate = '" + rate +
                               "' is not a number from 0 to 1 (0.1 records one new trace in ten)");
        else
            t.sampleRate = value;
    }

    t.serviceName = read.text("service_name", t.serviceName);
    if (t.serviceName.empty()) problems.push_back("tracing.service_name is empty");

    std::string url = read.text("zipkin.url", "");
    if (!url.empty()) parseCollectorUrl(url, t, problems);
    t.zipkinTimeoutMs = read.integer("zipkin.timeout_ms", t.zipkinTimeoutMs, 1, 600000);
    t.retries = read.integer("zipkin.retries", t.retries, 0, 1000);
    t.backoffInitialMs = read.integer("zipkin.backoff_initial_ms", t.backoffInitialMs, 1, 3600000);
    t.backoffMaxMs = read.integer("zipkin.backoff_max_ms", t.backoffMaxMs, 1, 3600000);
    if (t.backoffMaxMs < t.backoffInitialMs)
        problems.push_back(
            "tracing.zipkin.backoff_max_ms = " + std::to_string(t.backoffMaxMs) +
            " is below tracing.zipkin.backoff_initial_ms = " + std::to_string(t.backoffInitialMs));

    std::string file = read.text("file", "");
    if (!file.empty()) {
        Poco::Path path(file);
        t.file = path.isAbsolute() ? path.toString()
                                   : Poco::Path(Poco::Path(confDir).makeDirectory()).resolve(path).toString();
    }
    t.fileRotateBytes = static_cast<std::size_t>(read.integer("file_rotate_mb", 100, 0, 1000000)) << 20;
    t.fileKeep = read.integer("file_keep", t.fileKeep, 0, 1000);
    t.queueSize =
        static_cast<std::size_t>(read.integer("queue_size", static_cast<int>(t.queueSize), 1, 10000000));
    t.batchSize =
        static_cast<std::size_t>(read.integer("batch_size", static_cast<int>(t.batchSize), 1, 100000));
    t.flushIntervalMs = read.integer("flush_interval_ms", t.flushIntervalMs, 10, 600000);
    t.shutdownTimeoutMs = read.integer("shutdown_timeout_ms", t.shutdownTimeoutMs, 0, 600000);

    if (!undefined.empty()) problems.push_back(undefined);
    if (t.enabled && t.zipkinHost.empty() && t.file.empty() && url.empty())
        problems.push_back(
            "tracing.enabled = true, but neither tracing.zipkin.url nor tracing.file is set: the spans would "
            "go "
            "nowhere");
    return t;
}

std::vector<std::string> traceKeyNames() {
    std::vector<std::string> keys;
    for (const std::string& key : kTopKeys)
        if (key != "zipkin") keys.push_back(key);
    for (const std::string& key : kZipkinKeys) keys.push_back("zipkin." + key);
    return keys;
}

}  // namespace berth::server
