#include "poco_transport.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include <istream>

#include "pipeline.h"

namespace berth::server {
namespace {

class PipelineHandler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit PipelineHandler(const HttpPipeline& pipeline) : pipeline_(pipeline) {}

    void handleRequest(Poco::Net::HTTPServerRequest& in, Poco::Net::HTTPServerResponse& out) override {
        HostRequest request;
        HttpResponse response;
        request.setMethod(HostRequest::parseMethod(in.getMethod()));
        request.setTarget(in.getURI());
        for (const auto& [name, value] : in) request.addHeader(name, value);

        std::string body;
        if (readBody(in, body)) {
            request.setBody(body);
            pipeline_.handle(request, response);
        } else {
            const std::size_t limit = pipeline_.limits().maxBodyBytes;
            pipeline_.reject(request, 413, "request body too large",
                             "the body exceeds the limit of " + std::to_string(limit) + " bytes", response);
            // The rest of the body is still on the wire; it must not be read as the next request.
            out.setKeepAlive(false);
        }
        send(response, out);
    }

  private:
    // False when the body is larger than the limit (without reading more than limit + 1 bytes).
    bool readBody(Poco::Net::HTTPServerRequest& in, std::string& body) {
        const std::size_t limit = pipeline_.limits().maxBodyBytes;
        // Without Content-Length or chunked framing a request has no body (RFC 9112 6.3); Poco's
        // stream would otherwise wait for the client to close the connection.
        if (!in.hasContentLength() && !in.getChunkedTransferEncoding()) return true;
        if (in.hasContentLength() && static_cast<std::uint64_t>(in.getContentLength64()) > limit)
            return false;
        std::istream& stream = in.stream();
        char buffer[8192];
        while (stream) {
            stream.read(buffer, sizeof buffer);
            body.append(buffer, static_cast<std::size_t>(stream.gcount()));
            if (body.size() > limit) return false;
        }
        return true;
    }

    void send(const HttpResponse& response, Poco::Net::HTTPServerResponse& out) {
        out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
        for (const auto& [name, value] : response.headers) out.add(name, value);
        if (response.status == 204 || response.status == 304) {
            out.send();
            return;
        }
        if (!response.contentType.empty()) out.setContentType(response.contentType);
        // sendBuffer writes no body for HEAD but keeps Content-Length, as RFC 9110 asks.
        out.sendBuffer(response.body.data(), response.body.size());
    }

    const HttpPipeline& pipeline_;
};

class PipelineHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit PipelineHandlerFactory(const HttpPipeline& pipeline) : pipeline_(pipeline) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new PipelineHandler(pipeline_);
    }

  private:
    const HttpPipeline& pipeline_;
};

}  // namespace

PocoTransport::PocoTransport(const TransportSettings& settings, const HttpPipeline& pipeline)
    : settings_(settings), pipeline_(pipeline) {}

PocoTransport::~PocoTransport() {
    stop();
}

void PocoTransport::start() {
    Poco::Net::ServerSocket socket(
        Poco::Net::SocketAddress(settings_.address, static_cast<Poco::UInt16>(settings_.port)), 256);
    boundPort_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(settings_.workerThreads);
    params->setMaxQueued(settings_.maxQueued);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(settings_.keepAliveTimeoutSeconds, 0));
    params->setServerName("berthd");
    threads_ = std::make_unique<Poco::ThreadPool>(2, settings_.workerThreads + 1);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new PipelineHandlerFactory(pipeline_), *threads_,
                                                      socket, params);
    server_->start();
}

void PocoTransport::stop() {
    if (server_) {
        server_->stopAll(false);
        server_.reset();
    }
    if (threads_) {
        threads_->joinAll();
        threads_.reset();
    }
}

}  // namespace berth::server
