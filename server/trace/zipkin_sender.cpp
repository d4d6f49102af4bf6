#include "zipkin_sender.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>

#include <algorithm>
#include <istream>
#include <string>

#include "trace_settings.h"

namespace berth::server {
namespace {

// A collector's answer is read to reuse the connection, but never held whole: its first bytes go
// into the error message, and past this much the connection is dropped rather than drained.
constexpr std::size_t kMaxAnswerBytes = 64 * 1024;
constexpr std::size_t kAnswerInError = 200;

/// Reads `in` up to kMaxAnswerBytes, keeping its start; false when more was left unread.
bool drainAnswer(std::istream& in, std::string& start) {
    char chunk[4096];
    std::size_t read = 0;
    while (read < kMaxAnswerBytes && in.read(chunk, sizeof chunk).gcount() > 0) {
        const auto got = static_cast<std::size_t>(in.gcount());
        if (start.size() < kAnswerInError) start.append(chunk, std::min(got, kAnswerInError - start.size()));
        read += got;
    }
    return in.eof() || in.peek() == std::char_traits<char>::eof();
}

}  // namespace

ZipkinSender::ZipkinSender(const TraceSettings& settings)
    : path_(settings.zipkinPath),
      session_(std::make_unique<Poco::Net::HTTPClientSession>(
          settings.zipkinHost, static_cast<Poco::UInt16>(settings.zipkinPort))) {
    const Poco::Timespan timeout(static_cast<long>(settings.zipkinTimeoutMs / 1000),
                                 static_cast<long>(settings.zipkinTimeoutMs % 1000) * 1000);
    session_->setTimeout(timeout, timeout, timeout);
    session_->setKeepAlive(true);
}

ZipkinSender::~ZipkinSender() = default;

bool ZipkinSender::post(const char* body, std::size_t length, std::string& error) {
    bool retryable = false;
    if (attempt(body, length, error, retryable)) return true;
    // Poco 1.11 keeps no pool: a keep-alive connection the collector closed while idle fails the
    // next request (NoMessageException, or a reset) before it reached the server. Once more, anew.
    if (!retryable) return false;
    session_->reset();
    return attempt(body, length, error, retryable);
}

bool ZipkinSender::attempt(const char* body, std::size_t length, std::string& error, bool& retryable) {
    retryable = false;
    const bool reused = session_->connected();
    try {
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, path_,
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(length));
        request.setKeepAlive(true);
        session_->sendRequest(request).write(body, static_cast<std::streamsize>(length));
        Poco::Net::HTTPResponse response;
        std::istream& in = session_->receiveResponse(response);
        std::string answer;
        const bool drained = drainAnswer(in, answer);  // so the connection can be reused
        if (!drained || !response.getKeepAlive()) session_->reset();
        const int status = static_cast<int>(response.getStatus());
        if (status >= 200 && status < 300) return true;
        error = "the collector answered " + std::to_string(status) + " " + response.getReason() +
                (answer.empty() ? "" : ": " + answer);
        return false;
    } catch (const Poco::TimeoutException& e) {
        // A collector that hung may have taken the batch: not sent again at once (the backoff
        // retries it), and a stopping berthd does not wait twice tracing.zipkin.timeout_ms.
        error = e.displayText();
    } catch (const Poco::Exception& e) {
        error = e.displayText();
        retryable = reused;  // only a reused connection can have been closed under us
    } catch (const std::exception& e) {
        error = e.what();
    }
    session_->reset();
    return false;
}

}  // namespace berth::server
