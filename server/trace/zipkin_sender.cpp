#include "zipkin_sender.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>

#include "trace_settings.h"

namespace berth::server {

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
        Poco::StreamCopier::copyToString(in, answer);  // read it all, so the connection can be reused
        const int status = static_cast<int>(response.getStatus());
        if (status >= 200 && status < 300) return true;
        error = "the collector answered " + std::to_string(status) + " " + response.getReason() +
                (answer.empty() ? "" : ": " + answer.substr(0, 200));
        if (!response.getKeepAlive()) session_->reset();
        return false;
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
