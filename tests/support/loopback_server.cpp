#include "loopback_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>

#include <mutex>
#include <thread>

namespace berth::test {

struct LoopbackServer::State {
    mutable std::mutex mutex;
    std::vector<Call> calls;
    int status = 202;
    std::unique_ptr<Poco::Net::HTTPServer> server;
    int port = 0;
};

namespace {

class Recorder : public Poco::Net::HTTPRequestHandler {
  public:
    explicit Recorder(std::shared_ptr<LoopbackServer::State> state) : state_(std::move(state)) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        LoopbackServer::Call call;
        call.method = request.getMethod();
        call.path = request.getURI();
        for (const auto& [name, value] : request) call.headers.emplace_back(name, value);
        Poco::StreamCopier::copyToString(request.stream(), call.body);
        int status;
        {
            std::lock_guard<std::mutex> lock(state_->mutex);
            state_->calls.push_back(std::move(call));
            status = state_->status;
        }
        response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
        response.setContentLength(0);
        response.send();
    }

  private:
    std::shared_ptr<LoopbackServer::State> state_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit Factory(std::shared_ptr<LoopbackServer::State> state) : state_(std::move(state)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Recorder(state_);
    }

  private:
    std::shared_ptr<LoopbackServer::State> state_;
};

}  // namespace

std::string LoopbackServer::Call::header(const std::string& name) const {
    for (const auto& [key, value] : headers)
        if (Poco::icompare(key, name) == 0) return value;
    return "";
}

bool LoopbackServer::Call::has(const std::string& name) const {
    for (const auto& header : headers)
        if (Poco::icompare(header.first, name) == 0) return true;
    return false;
}

LoopbackServer::LoopbackServer(int port) : state_(std::make_shared<State>()) {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), true);
    socket.listen(64);
    state_->port = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(true);
    params->setMaxThreads(8);
    state_->server = std::make_unique<Poco::Net::HTTPServer>(new Factory(state_), socket, params);
    state_->server->start();
}

LoopbackServer::~LoopbackServer() {
    stop();
}

int LoopbackServer::port() const noexcept {
    return state_->port;
}

std::string LoopbackServer::url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(state_->port) + path;
}

void LoopbackServer::setStatus(int status) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->status = status;
}

std::vector<LoopbackServer::Call> LoopbackServer::received() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->calls;
}

bool LoopbackServer::waitFor(const std::function<bool(const std::vector<Call>&)>& done,
                             std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (done(received())) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void LoopbackServer::stop() {
    if (state_->server) {
        state_->server->stopAll(true);
        state_->server.reset();
    }
}

}  // namespace berth::test
