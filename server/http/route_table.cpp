#include "route_table.h"

#include <algorithm>
#include <stdexcept>

#include "percent_decode.h"

namespace berth::server {
namespace {

bool isPrefixChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '~';
}

std::vector<std::string> splitLiteral(std::string_view path) {
    std::vector<std::string> segments;
    RouteTable::splitPath(path, segments);
    return segments;
}

// True when one list of segments starts with the other (so one prefix would shadow the other).
bool nested(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::size_t n = std::min(a.size(), b.size());
    return std::equal(a.begin(), a.begin() + n, b.begin());
}

bool headMatches(const std::vector<std::string>& head, const std::vector<std::string>& segments) {
    return head.size() <= segments.size() && std::equal(head.begin(), head.end(), segments.begin());
}

void appendAllowed(std::string& allow, Method method) {
    if (!allow.empty()) allow += ", ";
    allow += methodName(method);
}

}  // namespace

void PluginRoutes::add(Method method, std::string_view pattern, Handler handler, RouteOptions options) {
    if (method == Method::Head || method == Method::Options || method == Method::Other)
        throw std::invalid_argument(std::string("route ") + methodName(method) + " " + std::string(pattern) +
                                    ": only GET, POST, PUT, PATCH and DELETE routes can be registered "
                                    "(HEAD follows GET, OPTIONS is answered by the host)");
    if (!handler) throw std::invalid_argument("route " + std::string(pattern) + ": empty handler");
    RoutePattern compiled = RoutePattern::compile(pattern);
    for (const Route& existing : routes_)
        if (existing.method == method && existing.pattern.sameShape(compiled))
            throw std::invalid_argument(std::string("route ") + methodName(method) + " " +
                                        std::string(pattern) + " is already registered as " +
                                        existing.pattern.source());
    routes_.push_back({method, std::move(compiled), std::move(handler), std::move(options), nullptr});
}

bool RouteTable::splitPath(std::string_view rawPath, std::vector<std::string>& segments) {
    // Reuses the strings already in `segments` (their buffers), since this runs per request.
    std::size_t count = 0;
    auto finish = [&](bool ok) {
        segments.resize(count);
        return ok;
    };
    if (rawPath.empty() || rawPath[0] != '/') return finish(false);
    if (rawPath.size() == 1) return finish(true);
    std::string_view rest = rawPath.substr(1);
    while (true) {
        std::size_t slash = rest.find('/');
        std::string_view raw = rest.substr(0, slash);
        if (count == segments.size()) segments.emplace_back();
        std::string& segment = segments[count++];
        if (raw.find('%') == std::string_view::npos) {
            segment.assign(raw);
        } else {
            segment.clear();
            if (!internal::percentDecode(raw, segment, false)) return finish(false);
        }
        if (slash == std::string_view::npos) return finish(true);
        rest = rest.substr(slash + 1);
    }
}

std::string RouteTable::prefixProblem(std::string_view prefix) {
    if (prefix.size() < 2 || prefix[0] != '/')
        return "prefix '" + std::string(prefix) + "' must start with '/' and name at least one segment";
    if (prefix.back() == '/') return "prefix '" + std::string(prefix) + "' must not end with '/'";
    // Clients remove "." and ".." segments before sending, so such a prefix could never be reached.
    std::string wrapped = std::string(prefix) + "/";
    if (wrapped.find("/./") != std::string::npos || wrapped.find("/../") != std::string::npos)
        return "prefix '" + std::string(prefix) + "' must not contain '.' or '..' segments";
    for (std::size_t i = 1; i < prefix.size(); ++i) {
        char c = prefix[i];
        if (c == '/' && prefix[i - 1] == '/')
            return "prefix '" + std::string(prefix) + "' has an empty segment";
        if (c != '/' && !isPrefixChar(c))
            return "prefix '" + std::string(prefix) +
                   "' may only use letters, digits, '_', '-', '.', '~' and '/'";
    }
    return {};
}

void RouteTable::reserve(std::string path) {
    reserved_.push_back(splitLiteral(path));
}

std::optional<std::string> RouteTable::clashWith(std::string_view prefix) const {
    std::vector<std::string> segments = splitLiteral(prefix);
    for (const auto& reserved : reserved_)
        if (nested(segments, reserved)) return std::string("berthd");
    for (const Mount& mount : mounts_)
        if (nested(segments, mount.prefixSegments)) return mount.plugin;
    return std::nullopt;
}

std::optional<std::string> RouteTable::mount(std::string plugin, std::string prefix,
                                             std::vector<Route> routes) {
    if (auto clash = clashWith(prefix)) return clash;
    std::stable_sort(routes.begin(), routes.end(),
                     [](const Route& a, const Route& b) { return a.pattern.moreSpecificThan(b.pattern); });
    Mount mount{std::move(plugin), std::move(prefix), {}, std::move(routes)};
    mount.prefixSegments = splitLiteral(mount.prefix);
    auto at = std::find_if(mounts_.begin(), mounts_.end(), [&](const Mount& m) {
        return m.prefixSegments.size() < mount.prefixSegments.size();
    });
    mounts_.insert(at, std::move(mount));
    // Mounts moved around in the vector: point every route back at its (new) mount.
    for (Mount& m : mounts_)
        for (Route& route : m.routes) route.mount = &m;
    return std::nullopt;
}

void RouteTable::find(Method method, std::string_view rawPath, Lookup& out,
                      std::vector<std::string>& segments) const {
    out.outcome = Lookup::Outcome::NotFound;
    out.mount = nullptr;
    out.route = nullptr;
    out.allow.clear();
    if (!splitPath(rawPath, segments)) {
        out.outcome = Lookup::Outcome::BadEncoding;
        return;
    }
    const Mount* mount = nullptr;
    for (const Mount& candidate : mounts_) {
        if (headMatches(candidate.prefixSegments, segments)) {
            mount = &candidate;
            break;
        }
    }
    if (mount == nullptr) return;
    out.mount = mount;
    const Method wanted = method == Method::Head ? Method::Get : method;
    const std::size_t from = mount->prefixSegments.size();
    bool allowed[8] = {};
    bool shapeMatched = false;
    for (const Route& route : mount->routes) {
        RoutePattern::Match match = route.pattern.match(segments, from, out.params);
        if (match == RoutePattern::Match::No) continue;
        if (route.method == wanted) {
            out.route = &route;
            out.outcome =
                match == RoutePattern::Match::Yes ? Lookup::Outcome::Found : Lookup::Outcome::IntOutOfRange;
            return;
        }
        shapeMatched = true;
        allowed[static_cast<int>(route.method)] = true;
    }
    if (!shapeMatched) return;
    out.outcome = Lookup::Outcome::MethodNotAllowed;
    for (Method m : {Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete}) {
        if (!allowed[static_cast<int>(m)]) continue;
        appendAllowed(out.allow, m);
        if (m == Method::Get) appendAllowed(out.allow, Method::Head);
    }
    appendAllowed(out.allow, Method::Options);
}

}  // namespace berth::server
