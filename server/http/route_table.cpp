#include "route_table.h"

#include <algorithm>
#include <cstring>
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

bool headMatches(const std::vector<std::string>& head, const std::vector<std::string_view>& segments) {
    return head.size() <= segments.size() && std::equal(head.begin(), head.end(), segments.begin());
}

// Whether `path` is `prefix` or goes on below it ("/a/b" is under "/a", "/ab" is not).
bool under(std::string_view path, const std::string& prefix) {
    return path.size() >= prefix.size() && (path.size() == prefix.size() || path[prefix.size()] == '/') &&
           std::memcmp(path.data(), prefix.data(), prefix.size()) == 0;
}

// Appends the segments of `path` as views of it: "/a/b" → "a", "b"; "/" → ""; "" → none.
void splitUnescaped(std::string_view path, std::vector<std::string_view>& segments) {
    if (path.empty()) return;
    const char* end = path.data() + path.size();
    const char* start = path.data() + 1;
    while (const char* slash = static_cast<const char*>(std::memchr(start, '/', end - start))) {
        segments.emplace_back(start, slash - start);
        start = slash + 1;
    }
    segments.emplace_back(start, end - start);
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

bool RouteTable::splitPath(std::string_view rawPath, std::vector<std::string_view>& segments,
                           std::string& decoded) {
    segments.clear();
    decoded.clear();
    if (rawPath.empty() || rawPath[0] != '/') return false;
    if (rawPath.size() == 1) return true;
    splitUnescaped(rawPath, segments);
    // The segments with a '%' are decoded one after another into `decoded` (decoding never makes
    // a segment longer, so one reservation does), and only then viewed there: `decoded` is
    // complete before any view of it is taken, so none can see it move.
    decoded.reserve(rawPath.size());
    for (std::string_view segment : segments)
        if (segment.find('%') != std::string_view::npos && !internal::percentDecode(segment, decoded, false))
            return false;
    const char* next = decoded.data();
    for (std::string_view& segment : segments) {
        // Each '%' of a well-formed segment starts an escape: three characters become one.
        auto escapes = static_cast<std::size_t>(std::count(segment.begin(), segment.end(), '%'));
        if (escapes == 0) continue;
        segment = std::string_view(next, segment.size() - 2 * escapes);
        next += segment.size();
    }
    return true;
}

bool RouteTable::splitPath(std::string_view rawPath, std::vector<std::string>& segments) {
    std::vector<std::string_view> views;
    std::string decoded;
    bool ok = splitPath(rawPath, views, decoded);
    segments.assign(views.begin(), views.end());
    return ok;
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
                      std::vector<std::string>& /*scratch*/) const {
    find(method, rawPath, out);
}

void RouteTable::find(Method method, std::string_view rawPath, Lookup& out) const {
    using Match = RoutePattern::Match;
    out.outcome = Lookup::Outcome::NotFound;
    out.mount = nullptr;
    out.route = nullptr;
    out.params.clear();
    out.allow.clear();
    out.segments.clear();
    const Mount* mount = nullptr;
    std::size_t from = 0;    // out.segments[from] is the first segment below the mount's prefix
    std::string_view below;  // the path below the prefix, when it has no '%'
    bool split = true;       // whether out.segments holds the path's segments yet
    if (!rawPath.empty() && rawPath[0] == '/' &&
        std::memchr(rawPath.data(), '%', rawPath.size()) == nullptr) {
        // The common case, without escapes: the prefix is compared as sent, and the rest of the path
        // is split (into views of it) only once a pattern with parameters needs its segments.
        for (const Mount& candidate : mounts_) {
            if (under(rawPath, candidate.prefix)) {
                mount = &candidate;
                break;
            }
        }
        if (mount == nullptr) return;
        below = rawPath.substr(mount->prefix.size());
        split = false;
    } else {
        if (!splitPath(rawPath, out.segments, out.decoded)) {
            out.outcome = Lookup::Outcome::BadEncoding;
            return;
        }
        for (const Mount& candidate : mounts_) {
            if (headMatches(candidate.prefixSegments, out.segments)) {
                mount = &candidate;
                break;
            }
        }
        if (mount == nullptr) return;
        from = mount->prefixSegments.size();
    }
    out.mount = mount;
    const Method wanted = method == Method::Head ? Method::Get : method;
    bool allowed[8] = {};
    bool shapeMatched = false;
    for (const Route& route : mount->routes) {
        Match match;
        if (!split && !route.pattern.hasParams()) {
            // Without parameters or escapes, the path fits exactly when its bytes are the pattern's.
            match = below == route.pattern.exactPath() ? Match::Yes : Match::No;
            if (match == Match::Yes) out.params.clear();
        } else {
            if (!split) {
                splitUnescaped(below, out.segments);
                split = true;
            }
            match = route.pattern.match(out.segments.data() + from, out.segments.data() + out.segments.size(),
                                        out.params);
        }
        if (match == Match::No) continue;
        if (route.method == wanted) {
            out.route = &route;
            out.outcome = match == Match::Yes ? Lookup::Outcome::Found : Lookup::Outcome::IntOutOfRange;
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
