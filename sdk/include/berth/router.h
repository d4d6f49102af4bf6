#pragma once
/// berth/router.h — where a plugin registers its routes, in Plugin::start().
///
///     void start(berth::Router& router) override {
///         router.get("/greet/<name>", [](const berth::Request& req) {
///             return berth::Json::object({{"greeting", "Hello, " + req.param("name")}});
///         });
///         router.post("/visit_tasks", [this](const berth::Request& req) { return create(req); });
///     }
///
/// Patterns are relative to the plugin's prefix (`/<plugin name>` unless conf overrides it).
/// Segments are literals or typed parameters: `<name>` (one segment), `<id:int>` (signed
/// 64-bit; too large → 400), `<rest:path>` (the rest of the path, last segment only).

#include <functional>
#include <string>
#include <string_view>

#include "berth/reply.h"
#include "berth/request.h"

namespace berth {
inline namespace v1 {

using Handler = std::function<Reply(const Request&)>;

struct RouteOptions {
    /// The handler never blocks (no database, cache or downstream call), so the host may
    /// run it on its I/O thread without handing the request to a worker.
    bool nonBlocking = false;
    /// One line for /plugins and the API docs.
    std::string summary;
};

class Router {
  public:
    virtual ~Router();
    /// Throws std::invalid_argument for a malformed pattern or a route registered twice.
    virtual void add(Method method, std::string_view pattern, Handler handler, RouteOptions options) = 0;

    void get(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        add(Method::Get, pattern, std::move(handler), std::move(options));
    }
    void post(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        add(Method::Post, pattern, std::move(handler), std::move(options));
    }
    void put(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        add(Method::Put, pattern, std::move(handler), std::move(options));
    }
    void patch(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        add(Method::Patch, pattern, std::move(handler), std::move(options));
    }
    void del(std::string_view pattern, Handler handler, RouteOptions options = {}) {
        add(Method::Delete, pattern, std::move(handler), std::move(options));
    }
};

}  // namespace v1
}  // namespace berth
