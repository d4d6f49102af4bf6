#pragma once
// Serves the pipeline through Poco::Net::HTTPServer: a thread per keep-alive connection, good
// enough for the foundation. The event-driven engine (issue 9) replaces this file only; the
// pipeline, the SDK's Request and everything above stay as they are.

#include <memory>
#include <string>

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
}
}  // namespace Poco

namespace berth::server {

class HttpPipeline;

struct TransportSettings {
    std::string address = "127.0.0.1";
    int port = 8080;
    int workerThreads = 16;
    int maxQueued = 256;
    int keepAliveTimeoutSeconds = 15;
};

class PocoTransport {
  public:
    PocoTransport(const TransportSettings& settings, const HttpPipeline& pipeline);
    ~PocoTransport();

    /// Binds and starts accepting; throws Poco::Net::NetException (e.g. address in use) on failure.
    void start();
    /// Stops accepting and waits for the connections' threads to finish.
    void stop();
    int boundPort() const noexcept { return boundPort_; }

  private:
    TransportSettings settings_;
    const HttpPipeline& pipeline_;
    std::unique_ptr<Poco::ThreadPool> threads_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    int boundPort_ = 0;
};

}  // namespace berth::server
