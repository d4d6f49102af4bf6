#pragma once
/// berth/trace.h — tracing for plugin code. While tracing is on (`tracing.*` in berth.properties)
/// every request a plugin route serves has a server span; the DB statements, cache round trips and
/// downstream calls made under it become its children without any code. Here a plugin reads the
/// current trace and span ids, and opens spans of its own:
///
///     berth::Reply price(const berth::Request& req) {
///         berth::Span span("price lookup");              // a child of the request's span
///         span.tag("hospital_id", req.param("id"));
///         berth::Json prices = loadPrices(req);          // its DB spans nest under "price lookup"
///         if (prices.empty()) span.error("no price list");
///         return prices;
///     }   // finished (and reported, if the trace is sampled) here
///
///     // A downstream call made with a client of your own (ctx.http() does this by itself):
///     berth::Span call("GET /patients", berth::Span::Kind::Client);
///     call.remoteService("patient-service");
///     for (const auto& [name, value] : call.outgoingHeaders()) request.set(name, value);
///
///     berth::TraceIds now = berth::currentTrace();    // now.traceId: "463ac35c9f6413ad48485a3953bb6124"
///
/// Spans cost a branch when tracing is off or the trace is not sampled. A Span belongs to the
/// thread that opened it and must finish there, in the reverse order of opening (scopes do that).
/// Opened outside a request (a timer's thread), a Span starts a trace of its own, sampled at
/// tracing.sample_rate.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth {
inline namespace v1 {

/// The ids of a span, as lowercase hex; empty outside a traced request (or when the trace is not
/// sampled and the caller sent no ids).
struct TraceIds {
    std::string traceId;  ///< 16 or 32 hex digits
    std::string spanId;   ///< 16 hex digits
    bool sampled = false;
};

/// The thread's current span: the request's server span while its handler runs, or the innermost
/// open Span.
TraceIds currentTrace();

/// Header name and value pairs to add to an outgoing request.
using TraceHeaders = std::vector<std::pair<std::string, std::string>>;

/// The propagation headers (B3, W3C traceparent, and tracestate when a traceparent caller sent
/// one) that make a call made now a child of the current span; empty outside a traced request.
TraceHeaders currentTraceHeaders();

class Tracer;

class Span {
  public:
    enum class Kind {
        Local,     ///< work inside this process
        Client,    ///< a call to another service (set remoteService())
        Producer,  ///< a message sent to a queue
        Consumer   ///< a message taken from a queue
    };

    explicit Span(std::string_view name, Kind kind = Kind::Local);
    ~Span();
    Span(const Span&) = delete;
    Span& operator=(const Span&) = delete;

    /// True when this span will be reported (tracing on, trace sampled).
    bool recording() const noexcept;
    /// A tag (Zipkin "tags"); the value is copied. No effect when not recording.
    Span& tag(std::string_view key, std::string_view value);
    /// The service on the other end (Zipkin remoteEndpoint.serviceName), for Client spans.
    Span& remoteService(std::string_view name);
    /// Marks the span failed (the "error" tag); the first message counts.
    Span& error(std::string_view message = {});
    /// Ends the span now (the destructor does it otherwise). Idempotent.
    void finish() noexcept;

    /// This span's ids while it records; the current span's otherwise.
    TraceIds ids() const;
    /// Headers for a call made within this span (a Client span: the callee becomes its child).
    TraceHeaders outgoingHeaders() const;

  private:
    Tracer* tracer_ = nullptr;
    void* state_ = nullptr;
};

/// What berthd installs while tracing is on; the functions above call it. Plugins do not
/// implement it (a test may, to see a plugin's spans).
class Tracer {
  public:
    virtual ~Tracer();

    /// Opens a span as a child of the current one; never null. The host owns the state.
    virtual void* start(std::string_view name, Span::Kind kind) = 0;
    virtual bool recording(const void* span) const noexcept = 0;
    virtual void tag(void* span, std::string_view key, std::string_view value) = 0;
    virtual void remoteService(void* span, std::string_view name) = 0;
    virtual void error(void* span, std::string_view message) = 0;
    /// Finishes and frees the span.
    virtual void finish(void* span) noexcept = 0;
    /// Of `span`, or of the current span when `span` is null.
    virtual TraceIds ids(const void* span) const = 0;
    virtual TraceHeaders outgoingHeaders(const void* span) const = 0;

    /// Installs (or, with nullptr, removes) the process's tracer.
    static void install(Tracer* tracer) noexcept;
    static Tracer* installed() noexcept;
};

}  // namespace v1
}  // namespace berth
