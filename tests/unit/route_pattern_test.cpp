// RoutePattern: compile errors, matching of literals and <name>, <id:int>, <rest:path>
// (64-bit ints, overflow → IntOutOfRange), specificity order and sameShape.
#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "http/route_pattern.h"
#include "test_helpers.h"

using berth::server::parseInt64;
using berth::server::RoutePattern;
using berth::test::contains;
using berth::test::thrownMessage;
using Kind = RoutePattern::Segment::Kind;
using Match = RoutePattern::Match;

namespace {

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> segments;
    if (path == "/") return segments;
    std::size_t start = 1;
    while (true) {
        std::size_t slash = path.find('/', start);
        segments.push_back(
            path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) return segments;
        start = slash + 1;
    }
}

Match matchPath(const std::string& pattern, const std::string& path,
                std::vector<RoutePattern::Param>& params) {
    return RoutePattern::compile(pattern).match(split(path), 0, params);
}

Match matchPath(const std::string& pattern, const std::string& path) {
    std::vector<RoutePattern::Param> params;
    return matchPath(pattern, path, params);
}

std::string compileError(const std::string& pattern) {
    return thrownMessage<std::invalid_argument>([&] { RoutePattern::compile(pattern); },
                                                "compile('" + pattern + "')");
}

}  // namespace

class RoutePatternTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RoutePatternTest);
    CPPUNIT_TEST(testCompileSegments);
    CPPUNIT_TEST(testCompileRoot);
    CPPUNIT_TEST(testCompileErrors);
    CPPUNIT_TEST(testCompileErrorMessages);
    CPPUNIT_TEST(testLiteralMatch);
    CPPUNIT_TEST(testTextParam);
    CPPUNIT_TEST(testIntParam);
    CPPUNIT_TEST(testIntOverflow);
    CPPUNIT_TEST(testIntNotANumber);
    CPPUNIT_TEST(testIntOutOfRangeStillNeedsTheShape);
    CPPUNIT_TEST(testPathParam);
    CPPUNIT_TEST(testTrailingSlashAndEmptySegments);
    CPPUNIT_TEST(testMatchFromOffset);
    CPPUNIT_TEST(testMatchViews);
    CPPUNIT_TEST(testExactPath);
    CPPUNIT_TEST(testParseInt64);
    CPPUNIT_TEST(testSpecificityLiteralFirstPathLast);
    CPPUNIT_TEST(testSpecificityIntBeforeText);
    CPPUNIT_TEST(testSameShape);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testCompileSegments() {
        RoutePattern p = RoutePattern::compile("/tasks/<id:int>/<who>/<s:str>/notes/<rest:path>");
        CPPUNIT_ASSERT_EQUAL(std::string("/tasks/<id:int>/<who>/<s:str>/notes/<rest:path>"), p.source());
        const auto& s = p.segments();
        CPPUNIT_ASSERT_EQUAL(std::size_t(6), s.size());
        CPPUNIT_ASSERT(s[0].kind == Kind::Literal && s[0].text == "tasks");
        CPPUNIT_ASSERT(s[1].kind == Kind::Int && s[1].text == "id");
        CPPUNIT_ASSERT(s[2].kind == Kind::Text && s[2].text == "who");
        CPPUNIT_ASSERT(s[3].kind == Kind::Text && s[3].text == "s");
        CPPUNIT_ASSERT(s[4].kind == Kind::Literal && s[4].text == "notes");
        CPPUNIT_ASSERT(s[5].kind == Kind::Path && s[5].text == "rest");
        // A literal may share a parameter's name; names of [A-Za-z0-9_] are fine.
        CPPUNIT_ASSERT_NO_THROW(RoutePattern::compile("/id/<id>"));
        CPPUNIT_ASSERT_NO_THROW(RoutePattern::compile("/<Snake_Case_9>"));
    }

    void testCompileRoot() {
        RoutePattern root = RoutePattern::compile("/");
        CPPUNIT_ASSERT(root.segments().empty());
        CPPUNIT_ASSERT(matchPath("/", "/") == Match::Yes);
        CPPUNIT_ASSERT(matchPath("/", "/a") == Match::No);
    }

    void testCompileErrors() {
        for (const char* bad : {"",
                                "a",
                                "a/b",
                                "//",
                                "/a/",
                                "/a//b",
                                "//a",
                                "/<>",
                                "/<:int>",
                                "/<id",
                                "/id>",
                                "/<id:float>",
                                "/<id:INT>",
                                "/<id:>x",
                                "/<a b>",
                                "/<a-b>",
                                "/<a.b>",
                                "/<a<b>",
                                "/x<id>",
                                "/<id>x",
                                "/a>b",
                                "/a<b",
                                "/<a>/<a:int>",
                                "/<a:int>/<a:path>",
                                "/<rest:path>/x",
                                "/<a>/<b:path>/c",
                                "/<p:path>/<q:path>",
                                "/<é>"})
            CPPUNIT_ASSERT_THROW_MESSAGE(std::string("'") + bad + "'", RoutePattern::compile(bad),
                                         std::invalid_argument);
    }

    void testCompileErrorMessages() {
        CPPUNIT_ASSERT_EQUAL(std::string("route pattern 'x': must start with '/'"), compileError("x"));
        CPPUNIT_ASSERT_EQUAL(std::string("route pattern '/a/': empty segment"), compileError("/a/"));
        CPPUNIT_ASSERT(contains(compileError("/<id:float>"), "unknown parameter type 'float'"));
        CPPUNIT_ASSERT(contains(compileError("/<a>/<a:int>"), "parameter 'a' appears twice"));
        CPPUNIT_ASSERT(contains(compileError("/<r:path>/x"), "must be the last segment"));
        CPPUNIT_ASSERT(contains(compileError("/<id"), "lacks '>'"));
        CPPUNIT_ASSERT(contains(compileError("/<:int>"), "parameter without a name"));
        CPPUNIT_ASSERT(contains(compileError("/x<id>"), "may only wrap a whole segment"));
    }

    void testLiteralMatch() {
        CPPUNIT_ASSERT(matchPath("/a/b", "/a/b") == Match::Yes);
        CPPUNIT_ASSERT(matchPath("/a/b", "/a/B") == Match::No);  // case-sensitive
        CPPUNIT_ASSERT(matchPath("/a/b", "/a") == Match::No);
        CPPUNIT_ASSERT(matchPath("/a/b", "/a/b/c") == Match::No);
        CPPUNIT_ASSERT(matchPath("/a/b", "/a/bc") == Match::No);
    }

    void testTextParam() {
        // Param::name views the pattern's own text, so the pattern must outlive the params.
        RoutePattern pattern = RoutePattern::compile("/greet/<name>/x/<other:str>");
        std::vector<RoutePattern::Param> params;
        CPPUNIT_ASSERT(pattern.match(split("/greet/bob/x/42"), 0, params) == Match::Yes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), params.size());
        CPPUNIT_ASSERT_EQUAL(std::string("name"), std::string(params[0].name));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), params[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("other"), std::string(params[1].name));
        CPPUNIT_ASSERT_EQUAL(std::string("42"), params[1].value);
        // Decoded segments arrive as they are, even a '/' from %2F.
        std::vector<RoutePattern::Param> decoded;
        RoutePattern p = RoutePattern::compile("/<n>");
        CPPUNIT_ASSERT(p.match({"a/b c"}, 0, decoded) == Match::Yes);
        CPPUNIT_ASSERT_EQUAL(std::string("a/b c"), decoded[0].value);
    }

    void testIntParam() {
        struct Case {
            const char* text;
            std::int64_t value;
        } cases[] = {{"42", 42},
                     {"0", 0},
                     {"-7", -7},
                     {"-0", 0},
                     {"007", 7},
                     {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
                     {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()}};
        for (const Case& c : cases) {
            std::vector<RoutePattern::Param> params;
            CPPUNIT_ASSERT_MESSAGE(
                c.text, matchPath("/n/<id:int>", std::string("/n/") + c.text, params) == Match::Yes);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.text, c.value, params.at(0).number);
            CPPUNIT_ASSERT_EQUAL(std::string(c.text), params.at(0).value);
        }
    }

    void testIntOverflow() {
        for (const char* text : {"9223372036854775808", "-9223372036854775809", "99999999999999999999",
                                 "-99999999999999999999999999", "18446744073709551616"})
            CPPUNIT_ASSERT_MESSAGE(
                text, matchPath("/n/<id:int>", std::string("/n/") + text) == Match::IntOutOfRange);
    }

    void testIntNotANumber() {
        for (const char* text :
             {"abc", "", "-", "+1", "1.0", "1e3", " 1", "1 ", "0x10", "12a", "--1", "1-", "١"})
            CPPUNIT_ASSERT_MESSAGE(std::string("'") + text + "'",
                                   matchPath("/n/<id:int>", std::string("/n/") + text) == Match::No);
    }

    void testIntOutOfRangeStillNeedsTheShape() {
        CPPUNIT_ASSERT(matchPath("/n/<id:int>/x", "/n/9223372036854775808/y") == Match::No);
        CPPUNIT_ASSERT(matchPath("/n/<id:int>/x", "/n/9223372036854775808/x") == Match::IntOutOfRange);
        CPPUNIT_ASSERT(matchPath("/n/<id:int>", "/n/9223372036854775808/extra") == Match::No);
        CPPUNIT_ASSERT(matchPath("/n/<id:int>/<r:path>", "/n/9223372036854775808/a/b") ==
                       Match::IntOutOfRange);
    }

    void testPathParam() {
        std::vector<RoutePattern::Param> params;
        CPPUNIT_ASSERT(matchPath("/files/<rest:path>", "/files/a/b/c.txt", params) == Match::Yes);
        CPPUNIT_ASSERT_EQUAL(std::string("a/b/c.txt"), params.at(0).value);
        CPPUNIT_ASSERT(matchPath("/files/<rest:path>", "/files/one", params) == Match::Yes);
        CPPUNIT_ASSERT_EQUAL(std::string("one"), params.at(0).value);
        CPPUNIT_ASSERT(matchPath("/files/<rest:path>", "/files/a//b/", params) == Match::Yes);
        CPPUNIT_ASSERT_EQUAL(std::string("a//b/"), params.at(0).value);
        CPPUNIT_ASSERT(matchPath("/files/<rest:path>", "/files") == Match::No);  // needs at least one segment
        CPPUNIT_ASSERT(matchPath("/files/<rest:path>", "/other/a") == Match::No);
        CPPUNIT_ASSERT(matchPath("/<id:int>/<rest:path>", "/5/x/y", params) == Match::Yes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), params.size());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(5), params[0].number);
        CPPUNIT_ASSERT_EQUAL(std::string("x/y"), params[1].value);
    }

    void testTrailingSlashAndEmptySegments() {
        CPPUNIT_ASSERT(matchPath("/greet/<name>", "/greet/bob/") == Match::No);
        CPPUNIT_ASSERT(matchPath("/greet/<name>", "/greet/") == Match::No);  // empty <name>
        CPPUNIT_ASSERT(matchPath("/a/<x>/b", "/a//b") == Match::No);
        CPPUNIT_ASSERT(matchPath("/a/<id:int>", "/a/") == Match::No);
        CPPUNIT_ASSERT(matchPath("/a", "/a/") == Match::No);
        CPPUNIT_ASSERT(matchPath("/a/b", "//a/b") == Match::No);
    }

    void testMatchFromOffset() {
        RoutePattern p = RoutePattern::compile("/greet/<name>");
        std::vector<RoutePattern::Param> params;
        CPPUNIT_ASSERT(p.match({"hello", "greet", "ann"}, 1, params) == Match::Yes);
        CPPUNIT_ASSERT_EQUAL(std::string("ann"), params.at(0).value);
        CPPUNIT_ASSERT(p.match({"hello", "greet", "ann"}, 0, params) == Match::No);
        CPPUNIT_ASSERT(p.match({"hello", "greet", "ann"}, 2, params) == Match::No);
        CPPUNIT_ASSERT(RoutePattern::compile("/").match({"hello"}, 1, params) == Match::Yes);
        // match() clears params left from an earlier call.
        params.push_back({"stale", "x", 0});
        CPPUNIT_ASSERT(RoutePattern::compile("/").match({}, 0, params) == Match::Yes);
        CPPUNIT_ASSERT(params.empty());
    }

    // The router's own form: views of the request path, params copied out of them.
    void testMatchViews() {
        const std::string path = "/n/42/bob/a/b";
        const std::string_view segments[] = {
            std::string_view(path).substr(1, 1), std::string_view(path).substr(3, 2),
            std::string_view(path).substr(6, 3), std::string_view(path).substr(10, 1),
            std::string_view(path).substr(12, 1)};
        std::vector<RoutePattern::Param> params;
        RoutePattern pattern = RoutePattern::compile("/n/<id:int>/<name>/<rest:path>");
        CPPUNIT_ASSERT(pattern.match(segments, segments + 5, params) == Match::Yes);
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), params.size());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), params[0].number);
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), params[1].value);
        CPPUNIT_ASSERT_EQUAL(std::string("a/b"), params[2].value);
        // Too few or too many segments for the shape; an empty range fits only "/".
        CPPUNIT_ASSERT(pattern.match(segments, segments + 3, params) == Match::No);
        CPPUNIT_ASSERT(RoutePattern::compile("/n/<id:int>").match(segments, segments + 3, params) ==
                       Match::No);
        CPPUNIT_ASSERT(RoutePattern::compile("/n/<id:int>/<name>").match(segments, segments + 3, params) ==
                       Match::Yes);
        CPPUNIT_ASSERT(RoutePattern::compile("/").match(segments, segments, params) == Match::Yes);
        CPPUNIT_ASSERT(params.empty());
        CPPUNIT_ASSERT(RoutePattern::compile("/<r:path>").match(segments, segments, params) == Match::No);
    }

    void testExactPath() {
        CPPUNIT_ASSERT(!RoutePattern::compile("/a/b").hasParams());
        CPPUNIT_ASSERT_EQUAL(std::string("/a/b"), std::string(RoutePattern::compile("/a/b").exactPath()));
        CPPUNIT_ASSERT(!RoutePattern::compile("/").hasParams());
        CPPUNIT_ASSERT(RoutePattern::compile("/").exactPath().empty());  // "/" matches no segment at all
        for (const char* pattern : {"/a/<x>", "/<id:int>", "/a/<r:path>"})
            CPPUNIT_ASSERT_MESSAGE(pattern, RoutePattern::compile(pattern).hasParams());
    }

    void testParseInt64() {
        std::int64_t value = 0;
        bool overflow = true;
        CPPUNIT_ASSERT(parseInt64("123", value, overflow));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(123), value);
        CPPUNIT_ASSERT(!overflow);
        CPPUNIT_ASSERT(parseInt64("-9223372036854775808", value, overflow));
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::int64_t>::min(), value);
        CPPUNIT_ASSERT(!parseInt64("9223372036854775808", value, overflow));
        CPPUNIT_ASSERT(overflow);
        CPPUNIT_ASSERT(!parseInt64("-9223372036854775809", value, overflow));
        CPPUNIT_ASSERT(overflow);
        for (const char* text : {"", "-", "+5", "5x", "x5", " 5", "5 ", "1.5", "0x1"}) {
            CPPUNIT_ASSERT_MESSAGE(text, !parseInt64(text, value, overflow));
            CPPUNIT_ASSERT_MESSAGE(text, !overflow);
        }
    }

    void testSpecificityLiteralFirstPathLast() {
        RoutePattern literal = RoutePattern::compile("/items/all");
        RoutePattern text = RoutePattern::compile("/items/<name>");
        RoutePattern path = RoutePattern::compile("/items/<rest:path>");
        CPPUNIT_ASSERT(literal.moreSpecificThan(text));
        CPPUNIT_ASSERT(!text.moreSpecificThan(literal));
        CPPUNIT_ASSERT(text.moreSpecificThan(path));
        CPPUNIT_ASSERT(!path.moreSpecificThan(text));
        CPPUNIT_ASSERT(literal.moreSpecificThan(path));
        // Irreflexive, and equal shapes are not ordered.
        CPPUNIT_ASSERT(!text.moreSpecificThan(text));
        CPPUNIT_ASSERT(!text.moreSpecificThan(RoutePattern::compile("/items/<other>")));
        // Longer wins when one is a prefix of the other.
        CPPUNIT_ASSERT(RoutePattern::compile("/a/b").moreSpecificThan(RoutePattern::compile("/a")));
    }

    // route_pattern.h: "the most specific is tried first: literal before int before text before path".
    void testSpecificityIntBeforeText() {
        RoutePattern integer = RoutePattern::compile("/items/<id:int>");
        RoutePattern text = RoutePattern::compile("/items/<name>");
        CPPUNIT_ASSERT_MESSAGE("<id:int> must be more specific than <name>", integer.moreSpecificThan(text));
        CPPUNIT_ASSERT_MESSAGE("<name> must not be more specific than <id:int>",
                               !text.moreSpecificThan(integer));
        CPPUNIT_ASSERT(integer.moreSpecificThan(RoutePattern::compile("/items/<rest:path>")));
        CPPUNIT_ASSERT(RoutePattern::compile("/items/7").moreSpecificThan(integer));
    }

    void testSameShape() {
        auto same = [](const char* a, const char* b) {
            return RoutePattern::compile(a).sameShape(RoutePattern::compile(b));
        };
        CPPUNIT_ASSERT(same("/a/<x>", "/a/<y>"));
        CPPUNIT_ASSERT(same("/a/<x>", "/a/<y:str>"));
        CPPUNIT_ASSERT(same("/a/<x:int>/b", "/a/<y:int>/b"));
        CPPUNIT_ASSERT(same("/", "/"));
        CPPUNIT_ASSERT(!same("/a/<x:int>", "/a/<y>"));
        CPPUNIT_ASSERT(!same("/a/<x>", "/a/<y:path>"));
        CPPUNIT_ASSERT(!same("/a", "/b"));
        CPPUNIT_ASSERT(!same("/a", "/a/b"));
        CPPUNIT_ASSERT(!same("/a/<x>", "/a/x"));
        CPPUNIT_ASSERT(!same("/", "/a"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RoutePatternTest);
