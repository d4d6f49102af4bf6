// PluginRoutes (what a plugin's start() may register) and RouteTable (prefixes, reserved host
// paths, clashes, lookup outcomes, Allow lists, specificity of the routes inside a mount).
#include <cppunit/extensions/HelperMacros.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "http/host_request.h"
#include "http/route_table.h"
#include "test_helpers.h"

using berth::Json;
using berth::Method;
using berth::Reply;
using berth::Request;
using berth::server::HostRequest;
using berth::server::PluginRoutes;
using berth::server::Route;
using berth::server::RouteTable;
using berth::test::contains;
using berth::test::thrownMessage;
using Outcome = RouteTable::Lookup::Outcome;

namespace {

berth::Handler answer(const std::string& tag) {
    return [tag](const Request&) -> Reply { return Json(tag); };
}

// Which handler a found route runs: the tag it answers with.
std::string tagOf(const Route& route) {
    HostRequest request;
    return route.handler(request).data().asString();
}

struct Found {
    Outcome outcome;
    std::string tag;  // of the route found, or empty
    std::string allow;
    std::string plugin;
    std::vector<berth::server::RoutePattern::Param> params;
};

Found lookup(const RouteTable& table, Method method, const std::string& path) {
    RouteTable::Lookup out;
    std::vector<std::string> scratch;
    table.find(method, path, out, scratch);
    Found found{out.outcome, "", out.allow, out.mount ? out.mount->plugin : "", std::move(out.params)};
    if (out.outcome == Outcome::Found || out.outcome == Outcome::IntOutOfRange) {
        CPPUNIT_ASSERT(out.route != nullptr);
        found.tag = tagOf(*out.route);
    }
    return found;
}

std::vector<Route> routesOf(PluginRoutes& routes) {
    return std::move(routes.routes());
}

}  // namespace

class RouteTableTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RouteTableTest);
    CPPUNIT_TEST(testAddRefusesHeadOptionsOther);
    CPPUNIT_TEST(testAddRefusesEmptyHandlerAndBadPattern);
    CPPUNIT_TEST(testAddRefusesDuplicateShape);
    CPPUNIT_TEST(testAddAcceptsDistinctRoutes);
    CPPUNIT_TEST(testPrefixProblem);
    CPPUNIT_TEST(testReservedPathsClashWithBerthd);
    CPPUNIT_TEST(testNestedPrefixesClash);
    CPPUNIT_TEST(testMountRefusesClash);
    CPPUNIT_TEST(testMountsLongestPrefixFirst);
    CPPUNIT_TEST(testSplitPath);
    CPPUNIT_TEST(testSplitPathViews);
    CPPUNIT_TEST(testFound);
    CPPUNIT_TEST(testFoundAcrossMounts);
    CPPUNIT_TEST(testDecodedSegments);
    CPPUNIT_TEST(testEscapedSegmentNextToPlainOnes);
    CPPUNIT_TEST(testRoutesWithoutParamsEscapedOrNot);
    CPPUNIT_TEST(testNotFound);
    CPPUNIT_TEST(testTrailingSlashAndEmptySegmentNotFound);
    CPPUNIT_TEST(testMethodNotAllowedAllow);
    CPPUNIT_TEST(testHeadFindsGet);
    CPPUNIT_TEST(testOptionsGivesAllow);
    CPPUNIT_TEST(testIntOutOfRange);
    CPPUNIT_TEST(testIntEdgesFit);
    CPPUNIT_TEST(testBadEncoding);
    CPPUNIT_TEST(testLiteralBeatsParamWhateverTheOrder);
    CPPUNIT_TEST(testPathIsLastResort);
    CPPUNIT_TEST(testIntRouteBeatsTextRoute);
    CPPUNIT_TEST(testLookupIsResetBetweenCalls);
    CPPUNIT_TEST(testReusedLookupKeepsNoStaleParams);
    CPPUNIT_TEST(testClear);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testAddRefusesHeadOptionsOther() {
        PluginRoutes routes;
        for (Method m : {Method::Head, Method::Options, Method::Other})
            CPPUNIT_ASSERT_THROW(routes.add(m, "/x", answer("x"), {}), std::invalid_argument);
        std::string message =
            thrownMessage<std::invalid_argument>([&] { routes.add(Method::Head, "/x", answer("x"), {}); });
        CPPUNIT_ASSERT(contains(message, "route HEAD /x"));
        CPPUNIT_ASSERT(routes.routes().empty());
    }

    void testAddRefusesEmptyHandlerAndBadPattern() {
        PluginRoutes routes;
        CPPUNIT_ASSERT_THROW(routes.get("/x", berth::Handler()), std::invalid_argument);
        for (const char* bad : {"", "x", "/a/", "/a//b", "/<id:float>", "/<r:path>/x", "/<a>/<a>"})
            CPPUNIT_ASSERT_THROW_MESSAGE(bad, routes.get(bad, answer("x")), std::invalid_argument);
        CPPUNIT_ASSERT(routes.routes().empty());
    }

    void testAddRefusesDuplicateShape() {
        PluginRoutes routes;
        routes.get("/items/<id:int>", answer("a"));
        std::string message =
            thrownMessage<std::invalid_argument>([&] { routes.get("/items/<other:int>", answer("b")); });
        CPPUNIT_ASSERT_EQUAL(
            std::string("route GET /items/<other:int> is already registered as /items/<id:int>"), message);
        routes.post("/items", answer("c"));
        CPPUNIT_ASSERT_THROW(routes.post("/items", answer("d")), std::invalid_argument);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), routes.routes().size());
    }

    void testAddAcceptsDistinctRoutes() {
        PluginRoutes routes;
        routes.get("/items", answer("1"));
        routes.post("/items", answer("2"));
        routes.put("/items/<id:int>", answer("3"));
        routes.patch("/items/<id:int>", answer("4"));
        routes.del("/items/<id:int>", answer("5"));
        routes.get("/items/<id:int>", answer("6"));
        routes.get("/items/<name>", answer("7"));
        routes.get("/items/<rest:path>", answer("8"));
        routes.get("/items/all", answer("9"));
        routes.get("/", answer("10"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), routes.routes().size());
        CPPUNIT_ASSERT(routes.routes()[2].method == Method::Put);
        CPPUNIT_ASSERT_EQUAL(std::string("/items/<id:int>"), routes.routes()[2].pattern.source());
    }

    void testPrefixProblem() {
        for (const char* good : {"/hello", "/a/b", "/a-b_c.d~e", "/V1/api", "/x"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(good, std::string(), RouteTable::prefixProblem(good));
        for (const char* bad : {"", "/", "hello", "/hello/", "/a//b", "//a", "/a b", "/a?b", "/a%20b", "/<x>",
                                "/a:b", "/\xc3\xa9", "/a\\b"})
            CPPUNIT_ASSERT_MESSAGE(std::string("'") + bad + "'", !RouteTable::prefixProblem(bad).empty());
        CPPUNIT_ASSERT_EQUAL(std::string("prefix '/a/' must not end with '/'"),
                             RouteTable::prefixProblem("/a/"));
        CPPUNIT_ASSERT_EQUAL(std::string("prefix '/a//b' has an empty segment"),
                             RouteTable::prefixProblem("/a//b"));
        // Clients resolve dot segments before sending: such a prefix could never be reached.
        for (const char* dots : {"/.", "/..", "/a/..", "/./a", "/a/../b"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(
                dots, std::string("prefix '") + dots + "' must not contain '.' or '..' segments",
                RouteTable::prefixProblem(dots));
        for (const char* dotted : {"/.well-known", "/a..b", "/v1.2"})
            CPPUNIT_ASSERT_EQUAL_MESSAGE(dotted, std::string(), RouteTable::prefixProblem(dotted));
        CPPUNIT_ASSERT(
            contains(RouteTable::prefixProblem("/"), "must start with '/' and name at least one segment"));
    }

    void testReservedPathsClashWithBerthd() {
        RouteTable table;
        for (const char* path : berth::server::kHostPaths) table.reserve(path);
        CPPUNIT_ASSERT(table.clashWith("/health") == std::optional<std::string>("berthd"));
        CPPUNIT_ASSERT(table.clashWith("/plugins") == std::optional<std::string>("berthd"));
        CPPUNIT_ASSERT(table.clashWith("/health/deep") == std::optional<std::string>("berthd"));
        CPPUNIT_ASSERT(!table.clashWith("/healthz"));
        CPPUNIT_ASSERT(!table.clashWith("/hello"));
        CPPUNIT_ASSERT(table.mount("p", "/metrics", {}) == std::optional<std::string>("berthd"));
        CPPUNIT_ASSERT(table.mounts().empty());
    }

    void testNestedPrefixesClash() {
        RouteTable table;
        CPPUNIT_ASSERT(!table.mount("ab", "/a/b", {}));
        CPPUNIT_ASSERT(table.clashWith("/a") == std::optional<std::string>("ab"));
        CPPUNIT_ASSERT(table.clashWith("/a/b") == std::optional<std::string>("ab"));
        CPPUNIT_ASSERT(table.clashWith("/a/b/c") == std::optional<std::string>("ab"));
        CPPUNIT_ASSERT(!table.clashWith("/a/bc"));
        CPPUNIT_ASSERT(!table.clashWith("/a/c"));
        CPPUNIT_ASSERT(!table.clashWith("/ab"));
        CPPUNIT_ASSERT(!table.clashWith("/b"));
    }

    void testMountRefusesClash() {
        RouteTable table;
        PluginRoutes first, second;
        first.get("/x", answer("first"));
        second.get("/x", answer("second"));
        CPPUNIT_ASSERT(!table.mount("one", "/same", routesOf(first)));
        CPPUNIT_ASSERT(table.mount("two", "/same", routesOf(second)) == std::optional<std::string>("one"));
        CPPUNIT_ASSERT(table.mount("three", "/same/inner", {}) == std::optional<std::string>("one"));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), table.mounts().size());
        CPPUNIT_ASSERT_EQUAL(std::string("first"), lookup(table, Method::Get, "/same/x").tag);
    }

    void testMountsLongestPrefixFirst() {
        RouteTable table;
        CPPUNIT_ASSERT(!table.mount("short", "/s", {}));
        CPPUNIT_ASSERT(!table.mount("long", "/l/m/n", {}));
        CPPUNIT_ASSERT(!table.mount("mid", "/m/n", {}));
        const auto& mounts = table.mounts();
        CPPUNIT_ASSERT_EQUAL(std::size_t(3), mounts.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/l/m/n"), mounts[0].prefix);
        CPPUNIT_ASSERT_EQUAL(std::string("/m/n"), mounts[1].prefix);
        CPPUNIT_ASSERT_EQUAL(std::string("/s"), mounts[2].prefix);
        CPPUNIT_ASSERT(mounts[1].prefixSegments == std::vector<std::string>({"m", "n"}));
    }

    void testSplitPath() {
        std::vector<std::string> segments{"stale"};
        CPPUNIT_ASSERT(RouteTable::splitPath("/", segments));
        CPPUNIT_ASSERT(segments.empty());
        CPPUNIT_ASSERT(RouteTable::splitPath("/a/b%20c", segments));
        CPPUNIT_ASSERT(segments == std::vector<std::string>({"a", "b c"}));
        CPPUNIT_ASSERT(RouteTable::splitPath("/a/", segments));
        CPPUNIT_ASSERT(segments == std::vector<std::string>({"a", ""}));
        CPPUNIT_ASSERT(RouteTable::splitPath("//", segments));
        CPPUNIT_ASSERT(segments == std::vector<std::string>({"", ""}));
        CPPUNIT_ASSERT(RouteTable::splitPath("/a+b", segments));  // '+' is not a space in a path
        CPPUNIT_ASSERT(segments == std::vector<std::string>({"a+b"}));
        CPPUNIT_ASSERT(RouteTable::splitPath("/a%2Fb", segments));
        CPPUNIT_ASSERT(segments == std::vector<std::string>({"a/b"}));
        CPPUNIT_ASSERT(!RouteTable::splitPath("", segments));
        CPPUNIT_ASSERT(!RouteTable::splitPath("a/b", segments));
        CPPUNIT_ASSERT(!RouteTable::splitPath("*", segments));
        CPPUNIT_ASSERT(!RouteTable::splitPath("/a/%zz", segments));
        CPPUNIT_ASSERT(!RouteTable::splitPath("/a%00", segments));
        CPPUNIT_ASSERT(!RouteTable::splitPath("/a%4", segments));
    }

    // The per-request form: segments view the path itself unless they had to be decoded.
    void testSplitPathViews() {
        std::vector<std::string_view> segments{"stale"};
        std::string decoded = "stale";
        const std::string plain = "/bench/plaintext";
        CPPUNIT_ASSERT(RouteTable::splitPath(plain, segments, decoded));
        CPPUNIT_ASSERT(segments == std::vector<std::string_view>({"bench", "plaintext"}));
        CPPUNIT_ASSERT(segments[0].data() == plain.data() + 1);  // a view, not a copy
        CPPUNIT_ASSERT(segments[1].data() == plain.data() + 7);
        CPPUNIT_ASSERT(decoded.empty());
        // An escaped segment between plain ones; %2F decodes to a '/' that stays inside its segment.
        const std::string mixed = "/a%20b/c/d%2Fe/%41%42%43/f";
        CPPUNIT_ASSERT(RouteTable::splitPath(mixed, segments, decoded));
        CPPUNIT_ASSERT(segments == std::vector<std::string_view>({"a b", "c", "d/e", "ABC", "f"}));
        CPPUNIT_ASSERT(segments[1].data() == mixed.data() + 7);
        CPPUNIT_ASSERT(segments[4].data() == mixed.data() + mixed.size() - 1);
        CPPUNIT_ASSERT_EQUAL(std::string("a bd/eABC"), decoded);
        // Many escaped segments: the views into `decoded` all stay valid.
        std::string many;
        std::vector<std::string_view> expected;
        for (int i = 0; i < 40; ++i) many += "/x%2" + std::to_string(i % 10);
        CPPUNIT_ASSERT(RouteTable::splitPath(many, segments, decoded));
        CPPUNIT_ASSERT_EQUAL(std::size_t(40), segments.size());
        for (int i = 0; i < 40; ++i)
            CPPUNIT_ASSERT_EQUAL(std::string("x") + char(0x20 + i % 10), std::string(segments[i]));
        CPPUNIT_ASSERT(RouteTable::splitPath("/", segments, decoded));
        CPPUNIT_ASSERT(segments.empty());
        CPPUNIT_ASSERT(RouteTable::splitPath("//a/", segments, decoded));
        CPPUNIT_ASSERT(segments == std::vector<std::string_view>({"", "a", ""}));
        CPPUNIT_ASSERT(RouteTable::splitPath("/%25/%2525", segments, decoded));  // an encoded '%' is data
        CPPUNIT_ASSERT(segments == std::vector<std::string_view>({"%", "%25"}));
        for (const char* bad : {"", "a/b", "*", "/a/%zz", "/a%00", "/a%4", "/ok/%", "/%%41"})
            CPPUNIT_ASSERT_MESSAGE(bad, !RouteTable::splitPath(bad, segments, decoded));
    }

    void testFound() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/greet/<name>", answer("greet"));
        routes.get("/", answer("root"));
        CPPUNIT_ASSERT(!table.mount("hello", "/hello", routesOf(routes)));
        Found found = lookup(table, Method::Get, "/hello/greet/bob");
        CPPUNIT_ASSERT(found.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::string("greet"), found.tag);
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), found.plugin);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), found.params.size());
        CPPUNIT_ASSERT_EQUAL(std::string("name"), std::string(found.params[0].name));
        CPPUNIT_ASSERT_EQUAL(std::string("bob"), found.params[0].value);
        CPPUNIT_ASSERT_EQUAL(std::string("root"), lookup(table, Method::Get, "/hello").tag);
    }

    void testFoundAcrossMounts() {
        RouteTable table;
        PluginRoutes a, b;
        a.get("/x", answer("a"));
        b.get("/x", answer("b"));
        CPPUNIT_ASSERT(!table.mount("a", "/a", routesOf(a)));
        CPPUNIT_ASSERT(!table.mount("b", "/b/deeper", routesOf(b)));
        CPPUNIT_ASSERT_EQUAL(std::string("a"), lookup(table, Method::Get, "/a/x").tag);
        CPPUNIT_ASSERT_EQUAL(std::string("b"), lookup(table, Method::Get, "/b/deeper/x").tag);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/b/x").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/ab/x").outcome == Outcome::NotFound);
    }

    void testDecodedSegments() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/greet/<name>", answer("greet"));
        CPPUNIT_ASSERT(!table.mount("hello", "/hello", routesOf(routes)));
        Found found = lookup(table, Method::Get, "/hello/greet/J%C3%BCrgen%20M");
        CPPUNIT_ASSERT(found.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::string("J\xc3\xbcrgen M"), found.params.at(0).value);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/hello/gr%65et/x").outcome == Outcome::Found);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/hello/greet/a%2Fb").outcome == Outcome::Found);
    }

    void testEscapedSegmentNextToPlainOnes() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/pair/<a>/<b>", answer("pair"));
        routes.get("/n/<id:int>/<name>", answer("n"));
        routes.get("/files/<rest:path>", answer("files"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        Found slash = lookup(table, Method::Get, "/x/pair/a%2Fb/c");  // %2F: one segment, not two
        CPPUNIT_ASSERT(slash.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::string("pair"), slash.tag);
        CPPUNIT_ASSERT_EQUAL(std::string("a/b"), slash.params.at(0).value);
        CPPUNIT_ASSERT_EQUAL(std::string("c"), slash.params.at(1).value);
        Found mixed = lookup(table, Method::Get, "/x/pair/plain/J%C3%BCrgen");
        CPPUNIT_ASSERT_EQUAL(std::string("plain"), mixed.params.at(0).value);
        CPPUNIT_ASSERT_EQUAL(std::string("J\xc3\xbcrgen"), mixed.params.at(1).value);
        Found number = lookup(table, Method::Get, "/x/n/%34%32/b%20b");
        CPPUNIT_ASSERT_EQUAL(std::string("n"), number.tag);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), number.params.at(0).number);
        CPPUNIT_ASSERT_EQUAL(std::string("42"), number.params.at(0).value);
        CPPUNIT_ASSERT_EQUAL(std::string("b b"), number.params.at(1).value);
        CPPUNIT_ASSERT_EQUAL(std::string("a/b/c"),
                             lookup(table, Method::Get, "/x/files/a%2Fb/c").params.at(0).value);
        CPPUNIT_ASSERT_EQUAL(std::string("a/b/"),
                             lookup(table, Method::Get, "/x/files/a/b/").params.at(0).value);
        // The prefix and the literals are compared decoded too.
        Found prefix = lookup(table, Method::Get, "/%78/pair/a/b");
        CPPUNIT_ASSERT(prefix.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::string("x"), prefix.plugin);
        CPPUNIT_ASSERT_EQUAL(std::string("pair"), lookup(table, Method::Get, "/x/p%61ir/a/b").tag);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/x/pair/a%2Fb").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/x%2Fpair/a/b").outcome == Outcome::NotFound);
    }

    // Routes without parameters are matched on the bytes of an unescaped path: the same answers.
    void testRoutesWithoutParamsEscapedOrNot() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/", answer("root"));
        routes.get("/a/b", answer("ab"));
        routes.post("/a/b", answer("post ab"));
        routes.get("/a/<x>", answer("ax"));
        routes.get("/a", answer("a"));
        CPPUNIT_ASSERT(!table.mount("x", "/x/y", routesOf(routes)));
        for (const char* path : {"/x/y", "/%78/y"}) {
            Found root = lookup(table, Method::Get, path);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(path, std::string("root"), root.tag);
            CPPUNIT_ASSERT(root.params.empty());
        }
        for (const char* path : {"/x/y/a/b", "/x/y/a/%62", "/x/%79/a/b"}) {
            Found ab = lookup(table, Method::Get, path);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(path, std::string("ab"), ab.tag);
            CPPUNIT_ASSERT(ab.params.empty());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(path, std::string("post ab"), lookup(table, Method::Post, path).tag);
            Found del = lookup(table, Method::Delete, path);
            CPPUNIT_ASSERT(del.outcome == Outcome::MethodNotAllowed);
            CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, POST, OPTIONS"), del.allow);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("a"), lookup(table, Method::Get, "/x/y/a").tag);
        CPPUNIT_ASSERT_EQUAL(std::string("ax"), lookup(table, Method::Get, "/x/y/a/c").tag);
        CPPUNIT_ASSERT_EQUAL(std::string("ax"), lookup(table, Method::Get, "/x/y/a/b%2F").tag);
        for (const char* path :
             {"/x/y/", "/x/y/a/", "/x/y/a/b/", "/x/y//a/b", "/x/ya", "/x/y/a/b/c", "/x/y/A/b"})
            CPPUNIT_ASSERT_MESSAGE(path, lookup(table, Method::Get, path).outcome == Outcome::NotFound);
        // A POST-only path that another route's shape fits: the params are the fitting route's.
        Found post = lookup(table, Method::Post, "/x/y/a/c");
        CPPUNIT_ASSERT(post.outcome == Outcome::MethodNotAllowed);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), post.allow);
    }

    void testNotFound() {
        RouteTable table;
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/anything").outcome == Outcome::NotFound);
        PluginRoutes routes;
        routes.get("/greet/<name>", answer("greet"));
        CPPUNIT_ASSERT(!table.mount("hello", "/hello", routesOf(routes)));
        Found inMount = lookup(table, Method::Get, "/hello/nothing");
        CPPUNIT_ASSERT(inMount.outcome == Outcome::NotFound);
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), inMount.plugin);  // the mount is known, the route is not
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/hello").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/hellox/greet/a").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/HELLO/greet/a").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/").outcome == Outcome::NotFound);
    }

    void testTrailingSlashAndEmptySegmentNotFound() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/greet/<name>", answer("greet"));
        routes.get("/a/<x>/b", answer("axb"));
        CPPUNIT_ASSERT(!table.mount("hello", "/hello", routesOf(routes)));
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/hello/greet/bob/").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/hello/greet/").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/hello/a//b").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/hello//greet/bob").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(lookup(table, Method::Get, "//hello/greet/bob").outcome == Outcome::NotFound);
    }

    void testMethodNotAllowedAllow() {
        RouteTable table;
        PluginRoutes routes;
        routes.post("/items", answer("create"));
        routes.get("/items", answer("list"));
        routes.del("/items/<id:int>", answer("delete"));
        routes.put("/items/<id:int>", answer("put"));
        routes.patch("/items/<id:int>", answer("patch"));
        CPPUNIT_ASSERT(!table.mount("p", "/p", routesOf(routes)));
        Found list = lookup(table, Method::Delete, "/p/items");
        CPPUNIT_ASSERT(list.outcome == Outcome::MethodNotAllowed);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, POST, OPTIONS"), list.allow);
        Found item = lookup(table, Method::Get, "/p/items/5");
        CPPUNIT_ASSERT(item.outcome == Outcome::MethodNotAllowed);
        CPPUNIT_ASSERT_EQUAL(std::string("PUT, PATCH, DELETE, OPTIONS"), item.allow);
        CPPUNIT_ASSERT(lookup(table, Method::Other, "/p/items").outcome == Outcome::MethodNotAllowed);
        // A path no route's shape fits is 404, not 405.
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/p/items/abc").outcome == Outcome::NotFound);
    }

    void testHeadFindsGet() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/g", answer("get"));
        routes.post("/p", answer("post"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        Found head = lookup(table, Method::Head, "/x/g");
        CPPUNIT_ASSERT(head.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::string("get"), head.tag);
        Found headOnPost = lookup(table, Method::Head, "/x/p");
        CPPUNIT_ASSERT(headOnPost.outcome == Outcome::MethodNotAllowed);
        CPPUNIT_ASSERT_EQUAL(std::string("POST, OPTIONS"), headOnPost.allow);
    }

    void testOptionsGivesAllow() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/g", answer("get"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        Found options = lookup(table, Method::Options, "/x/g");
        CPPUNIT_ASSERT(options.outcome == Outcome::MethodNotAllowed);
        CPPUNIT_ASSERT_EQUAL(std::string("GET, HEAD, OPTIONS"), options.allow);
    }

    void testIntOutOfRange() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/n/<id:int>", answer("n"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        for (const char* path :
             {"/x/n/9223372036854775808", "/x/n/-9223372036854775809", "/x/n/99999999999999999999"}) {
            Found found = lookup(table, Method::Get, path);
            CPPUNIT_ASSERT_MESSAGE(path, found.outcome == Outcome::IntOutOfRange);
            CPPUNIT_ASSERT_EQUAL(std::string("n"), found.tag);
        }
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/x/n/12abc").outcome == Outcome::NotFound);
        // Out of range for another method's route: 405, the method is what is wrong.
        CPPUNIT_ASSERT(lookup(table, Method::Post, "/x/n/9223372036854775808").outcome ==
                       Outcome::MethodNotAllowed);
    }

    void testIntEdgesFit() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/n/<id:int>", answer("n"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        Found max = lookup(table, Method::Get, "/x/n/9223372036854775807");
        CPPUNIT_ASSERT(max.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::int64_t>::max(), max.params.at(0).number);
        Found min = lookup(table, Method::Get, "/x/n/-9223372036854775808");
        CPPUNIT_ASSERT(min.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::int64_t>::min(), min.params.at(0).number);
        // Percent-encoded digits are decoded before the int check.
        Found encoded = lookup(table, Method::Get, "/x/n/%34%32");
        CPPUNIT_ASSERT(encoded.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), encoded.params.at(0).number);
    }

    void testBadEncoding() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/greet/<name>", answer("greet"));
        CPPUNIT_ASSERT(!table.mount("hello", "/hello", routesOf(routes)));
        for (const char* path : {"/hello/greet/%zz", "/hello/greet/%00", "/hello/greet/a%4", "/hello/greet/%",
                                 "/nowhere/%g1", "/%00", "", "no-slash"})
            CPPUNIT_ASSERT_MESSAGE(std::string("'") + path + "'",
                                   lookup(table, Method::Get, path).outcome == Outcome::BadEncoding);
    }

    void testLiteralBeatsParamWhateverTheOrder() {
        for (bool literalFirst : {true, false}) {
            RouteTable table;
            PluginRoutes routes;
            if (literalFirst) routes.get("/items/all", answer("literal"));
            routes.get("/items/<name>", answer("param"));
            if (!literalFirst) routes.get("/items/all", answer("literal"));
            CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
            CPPUNIT_ASSERT_EQUAL(std::string("literal"), lookup(table, Method::Get, "/x/items/all").tag);
            CPPUNIT_ASSERT_EQUAL(std::string("param"), lookup(table, Method::Get, "/x/items/other").tag);
        }
    }

    void testPathIsLastResort() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/<rest:path>", answer("path"));
        routes.get("/files/<name>", answer("file"));
        routes.get("/files/<name>/meta", answer("meta"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        CPPUNIT_ASSERT_EQUAL(std::string("file"), lookup(table, Method::Get, "/x/files/a").tag);
        CPPUNIT_ASSERT_EQUAL(std::string("meta"), lookup(table, Method::Get, "/x/files/a/meta").tag);
        Found rest = lookup(table, Method::Get, "/x/files/a/b/c");
        CPPUNIT_ASSERT_EQUAL(std::string("path"), rest.tag);
        CPPUNIT_ASSERT_EQUAL(std::string("files/a/b/c"), rest.params.at(0).value);
    }

    // route_pattern.h documents "literal before int before text before path": GET /items/42 must
    // reach the <id:int> route even when a <name> route of the same length exists.
    void testIntRouteBeatsTextRoute() {
        for (bool intFirst : {true, false}) {
            RouteTable table;
            PluginRoutes routes;
            if (intFirst) routes.get("/items/<id:int>", answer("int"));
            routes.get("/items/<slug>", answer("text"));
            if (!intFirst) routes.get("/items/<id:int>", answer("int"));
            CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(intFirst ? "int registered first" : "int registered last",
                                         std::string("int"), lookup(table, Method::Get, "/x/items/42").tag);
            CPPUNIT_ASSERT_EQUAL(std::string("text"), lookup(table, Method::Get, "/x/items/abc").tag);
        }
    }

    void testLookupIsResetBetweenCalls() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/g", answer("get"));
        routes.post("/p", answer("post"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        RouteTable::Lookup out;
        std::vector<std::string> scratch;
        table.find(Method::Get, "/x/p", out, scratch);
        CPPUNIT_ASSERT(out.outcome == Outcome::MethodNotAllowed);
        table.find(Method::Get, "/x/g", out, scratch);
        CPPUNIT_ASSERT(out.outcome == Outcome::Found);
        CPPUNIT_ASSERT(out.allow.empty());
        table.find(Method::Get, "/elsewhere", out, scratch);
        CPPUNIT_ASSERT(out.outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(out.route == nullptr);
        CPPUNIT_ASSERT(out.mount == nullptr);
        table.find(Method::Get, "/x/%zz", out, scratch);
        CPPUNIT_ASSERT(out.outcome == Outcome::BadEncoding);
        CPPUNIT_ASSERT(out.route == nullptr);
    }

    void testReusedLookupKeepsNoStaleParams() {
        RouteTable table;
        PluginRoutes routes;
        routes.get("/items/<id:int>", answer("item"));
        routes.get("/items/all", answer("all"));
        routes.get("/files/<rest:path>", answer("files"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        RouteTable::Lookup out;
        table.find(Method::Get, "/x/items/7", out);
        CPPUNIT_ASSERT(out.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), out.params.size());
        table.find(Method::Get, "/x/items/all", out);
        CPPUNIT_ASSERT(out.outcome == Outcome::Found);
        CPPUNIT_ASSERT_EQUAL(std::string("all"), tagOf(*out.route));
        CPPUNIT_ASSERT(out.params.empty());
        table.find(Method::Get, "/x/files/%41%2F%42/c", out);
        CPPUNIT_ASSERT_EQUAL(std::string("A/B/c"), out.params.at(0).value);
        table.find(Method::Get, "/x/files/d", out);  // after an escaped path, an unescaped one
        CPPUNIT_ASSERT_EQUAL(std::string("d"), out.params.at(0).value);
        table.find(Method::Get, "/elsewhere", out);
        CPPUNIT_ASSERT(out.outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(out.params.empty());
        // The params are the request's own strings: they outlive the path they were found in.
        std::string path = "/x/items/12345678901234567";
        table.find(Method::Get, path, out);
        path.assign(path.size(), '?');
        CPPUNIT_ASSERT_EQUAL(std::string("12345678901234567"), out.params.at(0).value);
    }

    void testClear() {
        RouteTable table;
        table.reserve("/health");
        PluginRoutes routes;
        routes.get("/g", answer("get"));
        CPPUNIT_ASSERT(!table.mount("x", "/x", routesOf(routes)));
        table.clear();
        CPPUNIT_ASSERT(table.mounts().empty());
        CPPUNIT_ASSERT(lookup(table, Method::Get, "/x/g").outcome == Outcome::NotFound);
        CPPUNIT_ASSERT(!table.clashWith("/x"));
        CPPUNIT_ASSERT(table.clashWith("/health") ==
                       std::optional<std::string>("berthd"));  // reservations stay
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RouteTableTest);
