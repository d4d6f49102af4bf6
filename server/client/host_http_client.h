#pragma once
// berth::HttpClient as the host implements it for one service: its SessionPool, the retries of
// idempotent calls, the timeouts, and the mapping of failures to the 502/503/504 envelopes
// documented in berth/http_client.h. One per service, shared by every plugin.

#include <Poco/Net/Context.h>

#include <memory>
#include <string>

#include "berth/http_client.h"
#include "client_settings.h"
#include "session_pool.h"

namespace Poco {
class Logger;
}

namespace berth::server {

class SpanScope;

class HostHttpClient : public HttpClient {
  public:
    /// Throws Poco::Exception when an https service's TLS context cannot be made (ca_file).
    HostHttpClient(ClientSettings settings, Poco::Logger& logger);
    ~HostHttpClient() override;

    const std::string& service() const noexcept override { return settings_.name; }
    // Qualified: server/http/http_response.h has a berth::server::HttpResponse of its own.
    berth::HttpResponse send(const HttpCall& call) override;

    const ClientSettings& settings() const noexcept { return settings_; }
    SessionPool::Stats poolStats() const { return pool_.stats(); }

  private:
    struct Attempt;
    /// One request on one session, in a client span of its own: the answer, or how it failed.
    Attempt attempt(SessionPool::Lease& lease, const HttpCall& call, const std::string& target);
    /// The request and its answer, with the span's tracing headers.
    Attempt exchange(SessionPool::Lease& lease, const HttpCall& call, const std::string& target,
                     const SpanScope& span);
    std::unique_ptr<Poco::Net::HTTPClientSession> newSession() const;

    ClientSettings settings_;
    Poco::Logger& logger_;
    Poco::Net::Context::Ptr tls_;  // https only
    SessionPool pool_;
};

}  // namespace berth::server
