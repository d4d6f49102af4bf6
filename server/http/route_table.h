#pragma once
// Every plugin's routes under its prefix, and the lookup from (method, path) to a handler.
// Built before serving starts and read-only while serving, so lookups take no lock.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/router.h"
#include "route_pattern.h"

namespace berth::server {

/// Paths berthd answers itself (now or in a planned endpoint); no plugin prefix may cover them.
inline constexpr const char* kHostPaths[] = {"/health",  "/plugins", "/ready",
                                             "/metrics", "/openapi", "/docs"};

struct Mount;

struct Route {
    Method method;
    RoutePattern pattern;
    Handler handler;
    RouteOptions options;
    const Mount* mount = nullptr;   // set when mounted
    std::size_t metricsSeries = 0;  // this route's series in RequestMetrics (0: unassigned)
};

/// The Router a plugin's start() registers into; its routes are mounted only if start() succeeds.
class PluginRoutes : public Router {
  public:
    void add(Method method, std::string_view pattern, Handler handler, RouteOptions options) override;
    std::vector<Route>& routes() noexcept { return routes_; }

  private:
    std::vector<Route> routes_;
};

struct Mount {
    std::string plugin;
    std::string prefix;
    std::vector<std::string> prefixSegments;
    std::vector<Route> routes;  // most specific pattern first
};

class RouteTable {
  public:
    struct Lookup {
        enum class Outcome { NotFound, Found, MethodNotAllowed, IntOutOfRange, BadEncoding };
        Outcome outcome = Outcome::NotFound;
        const Mount* mount = nullptr;
        const Route* route = nullptr;
        std::vector<RoutePattern::Param> params;
        std::string allow;  // for MethodNotAllowed (and OPTIONS): "GET, HEAD, OPTIONS"
        /// Scratch for find(): the path's segments, viewing the path or `decoded` (the bytes of
        /// segments that had percent-escapes). Kept here so that a reused Lookup allocates nothing.
        std::vector<std::string_view> segments;
        std::string decoded;
    };

    /// Checks a prefix's syntax ("/name" or "/a/b", segments of [A-Za-z0-9._~-]); empty if fine.
    static std::string prefixProblem(std::string_view prefix);

    /// Keeps a path for the host (e.g. "/health") so no plugin prefix can shadow it.
    void reserve(std::string path);
    /// Who already owns `prefix`, or a prefix nested in or around it: a plugin name or "berthd".
    std::optional<std::string> clashWith(std::string_view prefix) const;
    /// Returns what clashes (as clashWith) instead of mounting, or nullopt once mounted.
    std::optional<std::string> mount(std::string plugin, std::string prefix, std::vector<Route> routes);
    void clear() noexcept { mounts_.clear(); }

    /// HEAD finds GET routes. Reuse `out` between calls (one per thread): its buffers are kept, so a
    /// lookup allocates nothing once warm. A path without '%' is not copied (only the params of the
    /// route found are); one with '%' has its escaped segments decoded into `out.decoded`.
    void find(Method method, std::string_view rawPath, Lookup& out) const;
    /// As above; `scratch` is no longer needed (the segments live in `out`) and is left alone.
    void find(Method method, std::string_view rawPath, Lookup& out, std::vector<std::string>& scratch) const;
    const std::vector<Mount>& mounts() const noexcept { return mounts_; }
    std::vector<Mount>& mounts() noexcept { return mounts_; }

    /// Splits "/a/b%20c" into decoded segments {"a", "b c"}; false on broken percent-encoding.
    /// A segment without '%' views `rawPath`; one with '%' is decoded into `decoded` and views that.
    /// "%2F" stays inside its segment ("/a%2Fb" is the one segment "a/b").
    static bool splitPath(std::string_view rawPath, std::vector<std::string_view>& segments,
                          std::string& decoded);
    /// The same, copied into strings (for prefixes and reserved paths, when mounting).
    static bool splitPath(std::string_view rawPath, std::vector<std::string>& segments);

  private:
    std::vector<Mount> mounts_;  // longest prefix first
    std::vector<std::vector<std::string>> reserved_;
};

}  // namespace berth::server
