// berth/testing.h's MockService: Poco's TCPServer with HTTPServerConnection, through a connection
// factory of ours that numbers the connections (Poco::Net::HTTPServer hides its factory), and one
// request handler that records each call and answers from the registered routes.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <strings.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>

#include "berth/testing.h"

namespace berth {
inline namespace v1 {
namespace testing {

namespace {

struct Answer {
    int status = 200;
    std::string body;
    std::string contentType;
    HttpHeaders headers;
    std::chrono::milliseconds delay{0};
    bool drop = false;
};

struct Route {
    Answer answer;
    std::vector<MockCall> calls;
};

using RouteKey = std::pair<std::string, std::string>;  // method, path

}  // namespace

struct MockService::State {
    std::mutex mutex;
    std::condition_variable stopped;  // wakes delayed answers when the mock stops
    bool stopping = false;
    std::map<RouteKey, Route> routes;
    std::vector<MockCall> calls;  // every call, in arrival order
    std::size_t unmatched = 0;
    std::size_t connections = 0;
    std::map<std::string, std::uint64_t> connectionOfPeer;  // "127.0.0.1:port" → number

    int port = 0;
    bool https = false;
    std::unique_ptr<Poco::ThreadPool> threads;
    std::unique_ptr<Poco::Net::TCPServer> server;
    class HandlerFactory;
    Poco::SharedPtr<HandlerFactory> handlers;

    /// Records the call and finds its answer; false when no route matches.
    bool record(MockCall& call, Answer& answer) {
        std::lock_guard<std::mutex> lock(mutex);
        auto found = routes.find(RouteKey(call.method, call.path));
        call.matched = found != routes.end();
        if (call.matched) {
            answer = found->second.answer;
            found->second.calls.push_back(call);
        } else {
            ++unmatched;
        }
        calls.push_back(call);
        return call.matched;
    }

    /// False when the mock stopped during the wait.
    bool wait(std::chrono::milliseconds delay) {
        std::unique_lock<std::mutex> lock(mutex);
        return !stopped.wait_for(lock, delay, [this] { return stopping; });
    }

    std::uint64_t connectionOf(const std::string& peer) {
        std::lock_guard<std::mutex> lock(mutex);
        auto found = connectionOfPeer.find(peer);
        return found == connectionOfPeer.end() ? 0 : found->second;
    }
};

namespace {

class Handler : public Poco::Net::HTTPRequestHandler {
  public:
    explicit Handler(MockService::State& state) : state_(state) {}

    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override;

  private:
    MockService::State& state_;
};

}  // namespace

class MockService::State::HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
  public:
    explicit HandlerFactory(State& state) : state_(state) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Handler(state_);
    }
    /// Shuts down every open connection, idle or busy (what HTTPServer::stopAll(true) does).
    void abortConnections() { serverStopped(this, true); }

  private:
    State& state_;
};

namespace {

// Numbers each accepted connection, so that a call can say which one it came on.
class CountingConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
  public:
    CountingConnectionFactory(MockService::State& state, Poco::Net::HTTPServerParams::Ptr params)
        : state_(state), params_(std::move(params)) {}

    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
        {
            std::lock_guard<std::mutex> lock(state_.mutex);
            state_.connectionOfPeer[socket.peerAddress().toString()] = ++state_.connections;
        }
        return new Poco::Net::HTTPServerConnection(socket, params_, state_.handlers);
    }

  private:
    MockService::State& state_;
    Poco::Net::HTTPServerParams::Ptr params_;
};

void Handler::handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    MockCall call;
    call.method = request.getMethod();
    const std::string& uri = request.getURI();
    std::size_t question = uri.find('?');
    call.path = uri.substr(0, question);
    if (question != std::string::npos) call.query = uri.substr(question + 1);
    for (const auto& [name, value] : request) call.headers.emplace_back(name, value);
    Poco::StreamCopier::copyToString(request.stream(), call.body);
    call.receivedAt = std::chrono::steady_clock::now();
    call.connection = state_.connectionOf(request.clientAddress().toString());

    Answer answer;
    if (!state_.record(call, answer)) {
        answer.status = 404;
        answer.contentType = "application/json";
        answer.body =
            Json::object({{"mock", "no answer registered for " + call.method + " " + call.path}}).dump();
    }
    if (answer.delay.count() > 0 && !state_.wait(answer.delay))
        throw Poco::IOException("mock service stopped while delaying an answer");
    if (answer.drop) {
        // Poco answers 500 to a handler that throws; shut the socket first so that nothing arrives.
        static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket().shutdown();
        throw Poco::IOException("mock service dropping the connection on purpose");
    }
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
    for (const auto& [name, value] : answer.headers) response.add(name, value);
    if (!answer.contentType.empty()) response.setContentType(answer.contentType);
    response.sendBuffer(answer.body.data(), answer.body.size());
}

}  // namespace

std::string MockCall::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
    return {};
}

MockService::MockService() : MockService(Options()) {}

MockService::MockService(const Options& options) : state_(std::make_shared<State>()) {
    State& state = *state_;
    state.handlers = new State::HandlerFactory(state);
    Poco::Net::HTTPServerParams::Ptr params(new Poco::Net::HTTPServerParams);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(
        Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(options.keepAliveTimeout.count()) * 1000));
    params->setMaxKeepAliveRequests(0);  // unlimited
    params->setMaxThreads(options.maxConnections);
    params->setMaxQueued(options.maxConnections);
    Poco::Net::SocketAddress loopback("127.0.0.1", 0);
    Poco::Net::ServerSocket socket;
    if (!options.certificateFile.empty() || !options.privateKeyFile.empty()) {
        if (options.certificateFile.empty() || options.privateKeyFile.empty())
            throw std::invalid_argument("MockService: https needs both certificateFile and privateKeyFile");
        Poco::Net::initializeSSL();
        Poco::Net::Context::Ptr context(
            new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options.privateKeyFile,
                                   options.certificateFile, "", Poco::Net::Context::VERIFY_NONE));
        socket = Poco::Net::SecureServerSocket(loopback, 64, context);
        state.https = true;
    } else {
        socket = Poco::Net::ServerSocket(loopback, 64);
    }
    state.port = socket.address().port();
    state.threads = std::make_unique<Poco::ThreadPool>(2, options.maxConnections + 2);
    state.server = std::make_unique<Poco::Net::TCPServer>(new CountingConnectionFactory(state, params),
                                                          *state.threads, socket, params);
    state.server->start();
}

MockService::~MockService() {
    stop();
}

void MockService::stop() {
    State& state = *state_;
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        if (state.stopping) return;
        state.stopping = true;
    }
    state.stopped.notify_all();
    state.server->stop();                // no more accepting
    state.handlers->abortConnections();  // the open connections end
    state.threads->joinAll();
    state.server.reset();  // closes the listening socket: connects are refused from now on
}

int MockService::port() const noexcept {
    return state_->port;
}

std::string MockService::url() const {
    return std::string(state_->https ? "https" : "http") + "://127.0.0.1:" + std::to_string(state_->port);
}

MockRoute MockService::on(std::string method, std::string path) {
    if (path.empty() || path[0] != '/' || path.find('?') != std::string::npos)
        throw std::invalid_argument("MockService: a route path starts with '/' and has no query: '" + path +
                                    "'");
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        // A route registered again starts from the default answer; its calls stay.
        state_->routes[RouteKey(method, path)].answer = Answer();
    }
    return MockRoute(*this, std::move(method), std::move(path));
}

namespace {

MockRoute withPayload(MockRoute route, const Json& payload) {
    if (!payload.isNull()) route.json(payload);
    return route;
}

}  // namespace

MockRoute MockService::get(std::string path, const Json& payload) {
    return withPayload(on("GET", std::move(path)), payload);
}
MockRoute MockService::post(std::string path, const Json& payload) {
    return withPayload(on("POST", std::move(path)), payload);
}
MockRoute MockService::put(std::string path, const Json& payload) {
    return withPayload(on("PUT", std::move(path)), payload);
}
MockRoute MockService::patch(std::string path, const Json& payload) {
    return withPayload(on("PATCH", std::move(path)), payload);
}
MockRoute MockService::del(std::string path, const Json& payload) {
    return withPayload(on("DELETE", std::move(path)), payload);
}

std::size_t MockService::calls(std::string_view method, std::string_view path) const {
    return received(method, path).size();
}

std::vector<MockCall> MockService::received(std::string_view method, std::string_view path) const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    auto found = state_->routes.find(RouteKey(std::string(method), std::string(path)));
    return found == state_->routes.end() ? std::vector<MockCall>() : found->second.calls;
}

std::vector<MockCall> MockService::received() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->calls;
}

std::size_t MockService::unmatched() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->unmatched;
}

std::size_t MockService::connections() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->connections;
}

void MockService::reset() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->routes.clear();
    state_->calls.clear();
    state_->unmatched = 0;
}

MockRoute::MockRoute(MockService& service, std::string method, std::string path)
    : service_(&service), method_(std::move(method)), path_(std::move(path)) {}

namespace {

// Applies `change` to the route's answer under the mock's lock (the route may have been reset).
template <class Change>
void changeAnswer(MockService::State& state, const std::string& method, const std::string& path,
                  Change&& change) {
    std::lock_guard<std::mutex> lock(state.mutex);
    change(state.routes[RouteKey(method, path)].answer);
}

}  // namespace

MockRoute& MockRoute::status(int code) {
    if (code < 100 || code > 599) throw std::invalid_argument("MockRoute: status " + std::to_string(code));
    changeAnswer(*service_->state_, method_, path_, [&](Answer& a) { a.status = code; });
    return *this;
}

MockRoute& MockRoute::json(const Json& payload) {
    return body(payload.dump(), "application/json");
}

MockRoute& MockRoute::body(std::string body, std::string contentType) {
    changeAnswer(*service_->state_, method_, path_, [&](Answer& a) {
        a.body = std::move(body);
        a.contentType = std::move(contentType);
    });
    return *this;
}

MockRoute& MockRoute::header(std::string name, std::string value) {
    changeAnswer(*service_->state_, method_, path_,
                 [&](Answer& a) { a.headers.emplace_back(std::move(name), std::move(value)); });
    return *this;
}

MockRoute& MockRoute::delay(std::chrono::milliseconds wait) {
    changeAnswer(*service_->state_, method_, path_, [&](Answer& a) { a.delay = wait; });
    return *this;
}

MockRoute& MockRoute::dropConnection() {
    changeAnswer(*service_->state_, method_, path_, [&](Answer& a) { a.drop = true; });
    return *this;
}

std::size_t MockRoute::calls() const {
    return service_->calls(method_, path_);
}

std::vector<MockCall> MockRoute::received() const {
    return service_->received(method_, path_);
}

}  // namespace testing
}  // namespace v1
}  // namespace berth
