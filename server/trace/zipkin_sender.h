#pragma once
// POSTs span batches to a Zipkin collector (tracing.zipkin.url) over one keep-alive connection,
// the reporter thread's own. It only sends: retries and backoff are the reporter's.

#include <memory>
#include <string>

namespace Poco::Net {
class HTTPClientSession;
}

namespace berth::server {

struct TraceSettings;

class ZipkinSender {
  public:
    explicit ZipkinSender(const TraceSettings& settings);
    ~ZipkinSender();
    ZipkinSender(const ZipkinSender&) = delete;
    ZipkinSender& operator=(const ZipkinSender&) = delete;

    /// Sends `length` bytes of `body` (a JSON array of spans); true when the collector answered
    /// 2xx. Otherwise false, with why in `error`. A connection the collector closed while idle is
    /// reopened once.
    bool post(const char* body, std::size_t length, std::string& error);

  private:
    bool attempt(const char* body, std::size_t length, std::string& error, bool& retryable);

    std::string path_;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

}  // namespace berth::server
