#pragma once
// A compiled route pattern such as "/visit_tasks/<id:int>/notes/<rest:path>".

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::server {

class RoutePattern {
  public:
    struct Segment {
        // Declared most specific first: moreSpecificThan() compares these values.
        enum class Kind { Literal, Int, Text, Path };
        Kind kind;
        std::string text;  // the literal, or the parameter's name
    };
    struct Param {
        std::string_view name;
        std::string value;
        std::int64_t number = 0;
    };
    enum class Match { No, Yes, IntOutOfRange };

    /// Throws std::invalid_argument naming the problem: bad parameter syntax, an unknown type,
    /// a repeated name, or a <…:path> that is not last.
    static RoutePattern compile(std::string_view pattern);

    /// `[first, last)` are the request path's decoded segments after the plugin prefix. On Yes,
    /// `params` holds the values in pattern order; on IntOutOfRange the path fits the
    /// pattern's shape but an <…:int> does not fit in 64 bits.
    Match match(const std::string_view* first, const std::string_view* last,
                std::vector<Param>& params) const;
    /// The same over `segments[from…]`.
    Match match(const std::vector<std::string>& segments, std::size_t from, std::vector<Param>& params) const;

    const std::string& source() const noexcept { return source_; }
    /// Whether the pattern has a <…> segment; one without matches a single path (exactPath()).
    bool hasParams() const noexcept { return hasParams_; }
    /// For a pattern without parameters, the only path it matches, as a client sends it when
    /// nothing in it is percent-encoded: the source, or "" for "/" (which matches no segment).
    std::string_view exactPath() const noexcept {
        return source_.size() == 1 ? std::string_view() : std::string_view(source_);
    }
    const std::vector<Segment>& segments() const noexcept { return segments_; }
    /// Orders patterns so the most specific is tried first: literal before int before text before path.
    bool moreSpecificThan(const RoutePattern& other) const noexcept;
    /// Same shape (literals equal, parameter kinds equal), whatever the parameter names.
    bool sameShape(const RoutePattern& other) const noexcept;

  private:
    std::string source_;
    std::vector<Segment> segments_;
    bool hasParams_ = false;
    bool endsWithPath_ = false;  // the last segment is a <…:path>, which takes one or more segments
};

/// Parses a decimal int64 ("-12", "42"); false when it is not all digits or does not fit.
bool parseInt64(std::string_view text, std::int64_t& out, bool& overflow);

}  // namespace berth::server
