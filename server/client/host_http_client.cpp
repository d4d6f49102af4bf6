#include "host_http_client.h"

#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>

#include <cctype>
#include <istream>
#include <optional>
#include <stdexcept>
#include <thread>

#include "../trace/span_scope.h"
#include "outgoing_headers.h"
#include "tls_context.h"

namespace berth::server {
namespace {

bool idempotent(Method method) {
    return method == Method::Get || method == Method::Head || method == Method::Put ||
           method == Method::Delete || method == Method::Options;
}

bool printableAscii(const std::string& text) {
    for (unsigned char c : text)
        if (c <= 0x20 || c >= 0x7F) return false;
    return true;
}

bool headerNameChar(unsigned char c) {
    static const std::string kTokenPunctuation = "!#$%&'*+-.^_`|~";
    return std::isalnum(c) || kTokenPunctuation.find(static_cast<char>(c)) != std::string::npos;
}

void validate(const std::string& service, const HttpCall& call) {
    std::string where = "service '" + service + "': ";
    if (call.method == Method::Other)
        throw std::invalid_argument(where +
                                    "the method must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS");
    if (call.path.empty() || call.path[0] != '/' || !printableAscii(call.path))
        throw std::invalid_argument(where + "the path '" + call.path +
                                    "' must start with '/' and hold no spaces, control characters or "
                                    "non-ASCII bytes (percent-encode them)");
    for (const auto& [name, value] : call.headers) {
        bool nameOk = !name.empty();
        for (unsigned char c : name) nameOk = nameOk && headerNameChar(c);
        bool valueOk = true;
        for (unsigned char c : value) valueOk = valueOk && (c >= 0x20 || c == '\t') && c != 0x7F;
        if (!nameOk || !valueOk)
            throw std::invalid_argument(where + "the header '" + name +
                                        "' has a name that is not an HTTP token or a value with control "
                                        "characters");
    }
}

}  // namespace

struct HostHttpClient::Attempt {
    enum class Outcome { Answered, Failed, TimedOut } outcome = Outcome::Failed;
    HttpResponse response;
    std::string reason;
    bool answerStarted = false;  // the status line had arrived when it failed
    bool worthRetrying = true;   // false: another try would get the same answer
};

HostHttpClient::HostHttpClient(ClientSettings settings, Poco::Logger& logger)
    : settings_(std::move(settings)),
      logger_(logger),
      tls_(settings_.https && settings_.unusable.empty() ? clientTlsContext(settings_.caFile) : nullptr),
      pool_(static_cast<std::size_t>(settings_.poolSize), std::chrono::milliseconds(settings_.poolWaitMs),
            std::chrono::milliseconds(settings_.idleTimeoutMs), [this] { return newSession(); }) {}

HostHttpClient::~HostHttpClient() = default;

std::unique_ptr<Poco::Net::HTTPClientSession> HostHttpClient::newSession() const {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (tls_)
        session = std::make_unique<Poco::Net::HTTPSClientSession>(
            settings_.host, static_cast<Poco::UInt16>(settings_.port), tls_);
    else
        session = std::make_unique<Poco::Net::HTTPClientSession>(settings_.host,
                                                                 static_cast<Poco::UInt16>(settings_.port));
    session->setKeepAlive(true);
    session->setTimeout(
        Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(settings_.connectTimeoutMs) * 1000),
        Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(settings_.readTimeoutMs) * 1000),
        Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(settings_.readTimeoutMs) * 1000));
    // Poco reconnects by itself past its keep-alive timeout; ours (idle_timeout_ms) drops first.
    session->setKeepAliveTimeout(
        Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(settings_.idleTimeoutMs + 1000) * 1000));
    return session;
}

HostHttpClient::Attempt HostHttpClient::attempt(SessionPool::Lease& lease, const HttpCall& call,
                                                const std::string& target) {
    // A client span per request sent (a retry is a span of its own), a child of the thread's span.
    SpanScope span(methodName(call.method), SpanKind::Client, settings_.name);
    span.tag("http.method", methodName(call.method)).tag("http.path", target);
    Attempt result = exchange(lease, call, target, span);
    if (result.outcome != Attempt::Outcome::Answered) {
        span.error(result.reason);
    } else {
        span.tag("http.status_code", std::to_string(result.response.status));
        if (result.response.status >= 500) span.error("status " + std::to_string(result.response.status));
    }
    return result;
}

HostHttpClient::Attempt HostHttpClient::exchange(SessionPool::Lease& lease, const HttpCall& call,
                                                 const std::string& target, const SpanScope& span) {
    Attempt result;
    Poco::Net::HTTPClientSession& session = lease.session();
    const bool connectedBefore = session.connected();
    bool sent = false;
    try {
        Poco::Net::HTTPRequest request(methodName(call.method), target, Poco::Net::HTTPMessage::HTTP_1_1);
        request.setKeepAlive(true);
        request.set("User-Agent", "berthd");
        for (const auto& [name, value] : call.headers) request.add(name, value);
        addOutgoingHeaders(request, span);
        bool withBody = !call.body.empty() || call.method == Method::Post || call.method == Method::Put ||
                        call.method == Method::Patch;
        if (withBody) {
            request.setContentLength(static_cast<std::streamsize>(call.body.size()));
            if (!call.contentType.empty()) request.setContentType(call.contentType);
        }
        std::ostream& out = session.sendRequest(request);
        if (withBody) out.write(call.body.data(), static_cast<std::streamsize>(call.body.size()));
        sent = true;

        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        result.answerStarted = true;
        result.response.status = static_cast<int>(response.getStatus());
        for (const auto& [name, value] : response) result.response.headers.emplace_back(name, value);
        if (call.method != Method::Head) {
            in.exceptions(std::ios::badbit);  // a read error or timeout is thrown, not an early end
            char buffer[16384];
            std::string& body = result.response.body;
            while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
                body.append(buffer, static_cast<std::size_t>(in.gcount()));
                if (body.size() > static_cast<std::size_t>(settings_.maxResponseBytes)) {
                    result.reason = "the answer is larger than clients." + settings_.name +
                                    ".max_response_bytes = " + std::to_string(settings_.maxResponseBytes);
                    result.worthRetrying = false;
                    return result;
                }
            }
            if (response.hasContentLength() &&
                static_cast<std::streamsize>(body.size()) != response.getContentLength()) {
                result.reason = "the connection closed after " + std::to_string(body.size()) + " of " +
                                std::to_string(response.getContentLength()) + " body bytes";
                return result;
            }
        }
        result.outcome = Attempt::Outcome::Answered;
        if (response.getKeepAlive()) lease.keep();
    } catch (const Poco::TimeoutException&) {
        result.outcome = Attempt::Outcome::TimedOut;
        if (!sent && !connectedBefore)
            result.reason = "no connection within clients." + settings_.name +
                            ".connect_timeout_ms = " + std::to_string(settings_.connectTimeoutMs);
        else
            result.reason = "no answer within clients." + settings_.name +
                            ".read_timeout_ms = " + std::to_string(settings_.readTimeoutMs);
    } catch (const Poco::Exception& e) {
        result.reason = e.displayText();
    } catch (const std::exception& e) {
        result.reason = e.what();
    }
    return result;
}

HttpResponse HostHttpClient::send(const HttpCall& call) {
    validate(settings_.name, call);
    const std::string name = settings_.name;
    if (!settings_.unusable.empty())
        throw ApiError(503, kDownstreamNotConfigured, "service '" + name + "' is not configured",
                       Json::object({{"service", name}, {"reason", settings_.unusable}}));
    const std::string target = settings_.basePath + call.path;
    const bool retryable = idempotent(call.method);
    int retriesLeft = retryable ? settings_.retries : 0;
    bool staleRetryLeft = retryable;
    int backoffMs = settings_.retryBackoffMs;
    for (;;) {
        std::optional<SessionPool::Lease> lease;
        try {
            lease.emplace(pool_.acquire());
        } catch (const PoolExhausted& e) {
            logger_.warning("service '%s': %s", name, std::string(e.what()));
            throw ApiError(503, kDownstreamPoolExhausted, "no free connection to service '" + name + "'",
                           Json::object({{"service", name}, {"reason", std::string(e.what())}}));
        } catch (const Poco::Exception& e) {  // the session could not even be made
            throw ApiError(502, kDownstreamUnreachable, "service '" + name + "' is unreachable",
                           Json::object({{"service", name}, {"reason", e.displayText()}}));
        }
        bool reused = lease->reused();
        Attempt result = attempt(*lease, call, target);
        lease.reset();  // back to the pool, or closed
        if (result.outcome == Attempt::Outcome::Answered) return std::move(result.response);
        std::string what = std::string(methodName(call.method)) + " " + target;
        if (result.outcome == Attempt::Outcome::TimedOut) {
            logger_.warning("service '%s' timed out: %s (%s)", name, what, result.reason);
            throw ApiError(504, kDownstreamTimeout, "service '" + name + "' timed out",
                           Json::object({{"service", name}, {"reason", result.reason}}));
        }
        // A kept-alive connection the server closed just as it was reused: once, at once, for free.
        if (reused && !result.answerStarted && staleRetryLeft) {
            staleRetryLeft = false;
            logger_.debug("service '%s': a kept-alive connection failed (%s); retrying %s on a new one", name,
                          result.reason, what);
            continue;
        }
        if (retriesLeft > 0 && result.worthRetrying) {
            --retriesLeft;
            logger_.information("service '%s': %s failed (%s); retrying in %d ms", name, what, result.reason,
                                backoffMs);
            std::this_thread::sleep_for(std::chrono::milliseconds(backoffMs));
            backoffMs *= 2;
            continue;
        }
        logger_.warning("service '%s' is unreachable: %s (%s)", name, what, result.reason);
        throw ApiError(502, kDownstreamUnreachable, "service '" + name + "' is unreachable",
                       Json::object({{"service", name}, {"reason", result.reason}}));
    }
}

}  // namespace berth::server
