#include "pipeline.h"

#include <Poco/Logger.h>

#include <optional>

#include "berth/error.h"
#include "db/scope_end_failure.h"
#include "envelope.h"
#include "observe/log_context.h"
#include "request_id.h"
#include "trace/current_span.h"
#include "trace/request_tracer.h"
#include "trace/trace_state.h"

namespace berth::server {
namespace {

// Headers the host computes itself; a plugin setting them would corrupt the framing.
bool hostOwnedHeader(std::string_view name) {
    auto is = [&](std::string_view other) {
        if (name.size() != other.size()) return false;
        for (std::size_t i = 0; i < name.size(); ++i)
            if ((name[i] | 0x20) != (other[i] | 0x20)) return false;
        return true;
    };
    return is("content-length") || is("transfer-encoding") || is("connection") || is("content-type");
}

// A CR, LF or NUL in a name or value would let a handler inject headers or a second response.
bool safeHeader(std::string_view name, std::string_view value) {
    if (name.empty()) return false;
    for (char c : name)
        if (c <= ' ' || c == ':' || c == 0x7f) return false;
    for (char c : value)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

// A raw reply as it is; anything else as data in the success envelope.
void writeReplyBody(const Reply& reply, HttpResponse& response) {
    if (reply.isRaw()) {
        response.contentType = reply.contentType();
        response.body = reply.body();
    } else {
        response.contentType = "application/json";
        writeSuccessEnvelope(response.body, reply.data());
    }
}

}  // namespace

HttpPipeline::HttpPipeline(const RouteTable& routes, CorsPolicy cors, HttpLimits limits, Poco::Logger& logger)
    : routes_(routes), cors_(std::move(cors)), limits_(limits), logger_(logger) {}

void HttpPipeline::addHostEndpoint(std::string path, HostEndpoint endpoint) {
    hostEndpoints_[std::move(path)] = HostEntry{std::move(endpoint), nullptr};
}

void HttpPipeline::addBlockingHostEndpoint(std::string path, Handler handler) {
    auto route = std::make_unique<Route>(
        Route{Method::Get, RoutePattern::compile(path), std::move(handler), RouteOptions{}, &hostMount_});
    hostEndpoints_[std::move(path)] = HostEntry{nullptr, std::move(route)};
}

bool HttpPipeline::answerHostMethod(const HostRequest& request, HttpResponse& response) const {
    if (request.method() == Method::Get || request.method() == Method::Head) return false;
    response.addHeader("Allow", "GET, HEAD, OPTIONS");
    if (request.method() == Method::Options) {
        response.status = 204;
    } else {
        fail(request, 405, 405, "method not allowed",
             std::string(request.methodText()) + " is not allowed on " + std::string(request.path()),
             response);
    }
    return true;
}

void HttpPipeline::assignRequestId(HostRequest& request, HttpResponse& response) const {
    std::string_view given = request.givenRequestId();
    if (isSaneRequestId(given)) {
        request.setIdGenerated(false);
        request.setRequestId(given);
    } else {
        request.setIdGenerated(true);
        generateRequestId(request.requestIdBuffer(), request.generatedIdBits());
        request.setRequestId(request.requestIdBuffer());
    }
    response.requestId = request.requestId();
}

void HttpPipeline::fail(const HostRequest& request, int status, int code, std::string_view message,
                        const Json& error, HttpResponse& response) const {
    response.status = status;
    response.contentType = "application/json";
    response.body.clear();
    // A traced request's error names its trace — the id of its spans and log lines — so that the
    // caller can find it from the answer. The request id itself when it is the trace id.
    const RequestTrace& trace = request.trace();
    std::string_view traceId;
    if (trace.active) traceId = trace.traceIsRequestId ? request.requestId() : trace.traceIdText();
    writeErrorEnvelope(response.body, code, message, error, request.requestId(), traceId);
}

void HttpPipeline::applyCors(const HostRequest& request, HttpResponse& response) const {
    if (!cors_.enabled()) return;
    std::string_view origin = request.origin();
    bool allowed = cors_.originAllowed(origin);
    if (allowed) cors_.addResponseHeaders(origin, response);
    // The answer depends on Origin whether or not this one was allowed: tell caches so.
    else
        response.addHeader("Vary", "Origin");
}

void HttpPipeline::reject(HostRequest& request, int status, std::string_view message, const Json& error,
                          HttpResponse& response) const {
    assignRequestId(request, response);
    applyCors(request, response);
    fail(request, status, status, message, error, response);
}

void HttpPipeline::handle(HostRequest& request, HttpResponse& response) const {
    if (const Route* route = prepare(request, response)) run(*route, request, response);
}

const Route* HttpPipeline::prepare(HostRequest& request, HttpResponse& response) const {
    assignRequestId(request, response);

    if (cors_.enabled()) {
        std::string_view origin = request.origin();
        std::string_view preflightMethod;
        if (!origin.empty() && request.method() == Method::Options)
            preflightMethod = request.header("Access-Control-Request-Method");
        if (!preflightMethod.empty()) {
            std::string refusal = cors_.answerPreflight(
                origin, preflightMethod, request.header("Access-Control-Request-Headers"), response);
            if (!refusal.empty()) fail(request, 403, 403, "CORS preflight refused", refusal, response);
            return nullptr;
        }
        applyCors(request, response);
    }

    std::size_t headerBytes = 0;
    for (const Header& header : request.headers())
        headerBytes += header.name.size() + header.value.size() + 4;
    if (request.headers().size() > limits_.maxHeaderCount || headerBytes > limits_.maxHeaderBytes) {
        fail(request, 431, 431, "request header fields too large",
             "at most " + std::to_string(limits_.maxHeaderCount) + " headers and " +
                 std::to_string(limits_.maxHeaderBytes) + " bytes of headers are accepted",
             response);
        return nullptr;
    }

    if (request.path() == "*") {  // asterisk-form: OPTIONS about the server as a whole
        if (request.method() == Method::Options) {
            response.status = 204;
            response.addHeader("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
        } else {
            fail(request, 400, 400, "bad request", "only OPTIONS may use the target *", response);
        }
        return nullptr;
    }

    auto endpoint = hostEndpoints_.find(request.path());
    if (endpoint != hostEndpoints_.end()) {
        if (answerHostMethod(request, response)) return nullptr;
        if (endpoint->second.blocking) return endpoint->second.blocking.get();
        Reply reply = endpoint->second.immediate();
        response.status = reply.statusCode();
        writeReplyBody(reply, response);
        return nullptr;
    }

    thread_local RouteTable::Lookup lookup;  // its buffers are reused: a warm lookup allocates nothing
    routes_.find(request.method(), request.path(), lookup);
    using Outcome = RouteTable::Lookup::Outcome;
    switch (lookup.outcome) {
        case Outcome::Found:
            request.setParams(std::move(lookup.params));
            if (tracer_ != nullptr)
                tracer_->begin(request.traceHeaders(), request.generatedIdBits() ? request.requestId() : "",
                               request.generatedIdBits(), request.trace());
            return lookup.route;
        case Outcome::BadEncoding:
            fail(request, 400, 400, "bad request", "the path has invalid percent-encoding", response);
            return nullptr;
        case Outcome::IntOutOfRange:
            fail(request, 400, 400, "bad request",
                 "a path parameter is not an integer that fits in 64 bits (route " +
                     lookup.route->pattern.source() + ")",
                 response);
            return nullptr;
        case Outcome::MethodNotAllowed:
            response.addHeader("Allow", lookup.allow);
            if (request.method() == Method::Options) {
                response.status = 204;
                return nullptr;
            }
            fail(request, 405, 405, "method not allowed",
                 std::string(request.methodText()) + " is not allowed on " + std::string(request.path()),
                 response);
            return nullptr;
        case Outcome::NotFound:
            fail(request, 404, 404, "not found", "no route for " + std::string(request.path()), response);
            return nullptr;
    }
    return nullptr;
}

void HttpPipeline::run(const Route& route, HostRequest& request, HttpResponse& response) const {
    const Mount& mount = *route.mount;
    // On the thread that runs the handler (I/O loop or worker): every log line below it, the
    // handler's and ours, names the plugin and the request.
    LogContextScope logContext(mount.plugin.c_str(), request.requestId());
    // The request's server span is current while the handler runs: DB, cache and downstream spans
    // become its children, and log lines name it (after the log scope, which clears trace ids).
    const RequestTrace& trace = request.trace();
    CurrentSpanScope span(trace.active ? &trace.context : nullptr, trace.traceIdText(), trace.spanIdText());
    std::optional<RequestTraceState> traceState;  // only a traceparent caller's tracestate goes on
    try {
        if (trace.active && !request.traceHeaders().traceparent.empty())
            traceState.emplace(request.traceHeaders(), request.headers());
        takeScopeEndFailure();  // a stale one from elsewhere on this thread
        Reply reply = route.handler(request);
        // A DbTransaction whose commit at the end of its scope failed: the reply is not true.
        if (std::optional<ScopeEndFailure> failed = takeScopeEndFailure()) {
            fail(request, failed->status, failed->code, failed->message, nullptr, response);
            return;
        }
        int status = reply.statusCode();
        bool statusOk = reply.isRaw() ? (status >= 200 && status < 400) : (status >= 200 && status < 300);
        if (!statusOk) {
            logger_.error(
                "%s %s [request_id=%s] plugin %s returned status %d; errors must be thrown as ApiError",
                std::string(methodName(request.method())), std::string(request.path()),
                std::string(request.requestId()), mount.plugin, status);
            fail(request, 500, 500, "internal server error", nullptr, response);
            return;
        }
        response.status = status;
        writeReplyBody(reply, response);
        for (const auto& [name, value] : reply.headers()) {
            if (hostOwnedHeader(name)) {
                logger_.warning("plugin %s: header %s is set by the host; the handler's value is ignored",
                                mount.plugin, name);
                continue;
            }
            if (!safeHeader(name, value)) {
                logger_.warning("plugin %s: header %s has characters that could split the response; dropped",
                                mount.plugin, name);
                continue;
            }
            response.addHeader(name, value);
        }
    } catch (const ApiError& error) {
        int status = error.httpStatus();
        if (status < 400 || status > 599) {
            logger_.error("plugin %s raised ApiError with HTTP status %d (must be 400-599): %s", mount.plugin,
                          status, error.message());
            status = 500;
        }
        fail(request, status, error.code(), error.message(), error.error(), response);
    } catch (const std::exception& e) {
        // The detail can name tables, hosts or files: it goes to the log, never to the client.
        logger_.error("%s %s [request_id=%s] plugin %s route %s threw: %s",
                      std::string(methodName(request.method())), std::string(request.path()),
                      std::string(request.requestId()), mount.plugin, route.pattern.source(),
                      std::string(e.what()));
        fail(request, 500, 500, "internal server error", nullptr, response);
    } catch (...) {
        logger_.error("%s %s [request_id=%s] plugin %s route %s threw a non-standard exception",
                      std::string(methodName(request.method())), std::string(request.path()),
                      std::string(request.requestId()), mount.plugin, route.pattern.source());
        fail(request, 500, 500, "internal server error", nullptr, response);
    }
}

}  // namespace berth::server
