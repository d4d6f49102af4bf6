#include "route_pattern.h"

#include <charconv>
#include <stdexcept>

namespace berth::server {
namespace {

bool isNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

[[noreturn]] void invalid(std::string_view pattern, const std::string& why) {
    throw std::invalid_argument("route pattern '" + std::string(pattern) + "': " + why);
}

}  // namespace

bool parseInt64(std::string_view text, std::int64_t& out, bool& overflow) {
    overflow = false;
    std::size_t digitsFrom = !text.empty() && text[0] == '-' ? 1 : 0;
    if (text.size() == digitsFrom) return false;
    for (std::size_t i = digitsFrom; i < text.size(); ++i)
        if (text[i] < '0' || text[i] > '9') return false;
    auto result = std::from_chars(text.data(), text.data() + text.size(), out);
    if (result.ec == std::errc::result_out_of_range) {
        overflow = true;
        return false;
    }
    return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

RoutePattern RoutePattern::compile(std::string_view pattern) {
    if (pattern.empty() || pattern[0] != '/') invalid(pattern, "must start with '/'");
    RoutePattern compiled;
    compiled.source_ = std::string(pattern);
    if (pattern == "/") return compiled;
    std::string_view rest = pattern.substr(1);
    while (true) {
        std::size_t slash = rest.find('/');
        std::string_view segment = rest.substr(0, slash);
        if (segment.empty()) invalid(pattern, "empty segment");
        if (!compiled.segments_.empty() && compiled.segments_.back().kind == Segment::Kind::Path)
            invalid(pattern, "a <name:path> parameter must be the last segment");
        if (segment.front() == '<') {
            if (segment.back() != '>') invalid(pattern, "parameter '" + std::string(segment) + "' lacks '>'");
            std::string_view inner = segment.substr(1, segment.size() - 2);
            std::size_t colon = inner.find(':');
            std::string_view name = inner.substr(0, colon);
            std::string_view type = colon == std::string_view::npos ? "" : inner.substr(colon + 1);
            if (name.empty()) invalid(pattern, "parameter without a name");
            for (char c : name)
                if (!isNameChar(c))
                    invalid(pattern, "parameter name '" + std::string(name) + "' is not [A-Za-z0-9_]");
            Segment::Kind kind;
            if (type.empty() || type == "str") {
                kind = Segment::Kind::Text;
            } else if (type == "int") {
                kind = Segment::Kind::Int;
            } else if (type == "path") {
                kind = Segment::Kind::Path;
            } else {
                invalid(pattern, "unknown parameter type '" + std::string(type) + "' (use int, str or path)");
            }
            for (const Segment& existing : compiled.segments_)
                if (existing.kind != Segment::Kind::Literal && existing.text == name)
                    invalid(pattern, "parameter '" + std::string(name) + "' appears twice");
            compiled.segments_.push_back({kind, std::string(name)});
        } else {
            if (segment.find_first_of("<>") != std::string_view::npos)
                invalid(pattern, "'<' and '>' may only wrap a whole segment");
            compiled.segments_.push_back({Segment::Kind::Literal, std::string(segment)});
        }
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    for (const Segment& segment : compiled.segments_)
        if (segment.kind != Segment::Kind::Literal) compiled.hasParams_ = true;
    compiled.endsWithPath_ = compiled.segments_.back().kind == Segment::Kind::Path;
    return compiled;
}

RoutePattern::Match RoutePattern::match(const std::string_view* first, const std::string_view* last,
                                        std::vector<Param>& params) const {
    params.clear();
    const std::size_t count = static_cast<std::size_t>(last - first);
    if (count < segments_.size() || (count > segments_.size() && !endsWithPath_)) return Match::No;
    bool outOfRange = false;
    const std::string_view* actual = first;
    for (const Segment& segment : segments_) {
        switch (segment.kind) {
            case Segment::Kind::Literal:
                if (*actual != segment.text) return Match::No;
                break;
            case Segment::Kind::Text:
                if (actual->empty()) return Match::No;
                params.push_back({segment.text, std::string(*actual)});
                break;
            case Segment::Kind::Int: {
                std::int64_t number = 0;
                bool overflow = false;
                if (!parseInt64(*actual, number, overflow)) {
                    if (!overflow) return Match::No;
                    outOfRange = true;
                }
                params.push_back({segment.text, std::string(*actual), number});
                break;
            }
            case Segment::Kind::Path: {  // always the last: takes this segment and all after it
                std::string joined(*actual);
                for (const std::string_view* more = actual + 1; more != last; ++more)
                    joined.append("/").append(*more);
                params.push_back({segment.text, std::move(joined)});
                break;
            }
        }
        ++actual;
    }
    return outOfRange ? Match::IntOutOfRange : Match::Yes;
}

RoutePattern::Match RoutePattern::match(const std::vector<std::string>& segments, std::size_t from,
                                        std::vector<Param>& params) const {
    std::vector<std::string_view> views;
    for (std::size_t i = from; i < segments.size(); ++i) views.emplace_back(segments[i]);
    return match(views.data(), views.data() + views.size(), params);
}

bool RoutePattern::moreSpecificThan(const RoutePattern& other) const noexcept {
    std::size_t n = std::min(segments_.size(), other.segments_.size());
    for (std::size_t i = 0; i < n; ++i) {
        auto mine = segments_[i].kind;
        auto theirs = other.segments_[i].kind;
        if (mine != theirs) return mine < theirs;
    }
    return segments_.size() > other.segments_.size();
}

bool RoutePattern::sameShape(const RoutePattern& other) const noexcept {
    if (segments_.size() != other.segments_.size()) return false;
    for (std::size_t i = 0; i < segments_.size(); ++i) {
        if (segments_[i].kind != other.segments_[i].kind) return false;
        if (segments_[i].kind == Segment::Kind::Literal && segments_[i].text != other.segments_[i].text)
            return false;
    }
    return true;
}

}  // namespace berth::server
