// berth::Json: building, typed reads, dump (escaping, invalid UTF-8, non-finite numbers) and
// parse (numbers at the int64 edges, depth limit, NUL, invalid UTF-8, trailing garbage).
#include <cppunit/extensions/HelperMacros.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "berth/json.h"
#include "json_escape.h"
#include "test_helpers.h"

using berth::Json;
using berth::JsonError;
using berth::test::contains;
using berth::test::thrownMessage;

namespace {

std::string nested(std::size_t depth, const std::string& open, const std::string& inner,
                   const std::string& close) {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += open;
    text += inner;
    for (std::size_t i = 0; i < depth; ++i) text += close;
    return text;
}

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool validUtf8(const std::string& s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    std::size_t n = s.size();
    for (std::size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return false;
        if (i + len > n) return false;
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

std::string dumpString(const std::string& s) {
    return Json(s).dump();
}

}  // namespace

class JsonTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(JsonTest);
    CPPUNIT_TEST(testDumpScalars);
    CPPUNIT_TEST(testDumpIntegerEdges);
    CPPUNIT_TEST(testDumpDoubles);
    CPPUNIT_TEST(testUnsignedAboveInt64NotWrapped);
    CPPUNIT_TEST(testNonFiniteDoublesDumpAsNull);
    CPPUNIT_TEST(testDumpKeepsMemberOrder);
    CPPUNIT_TEST(testDumpEscapesQuotesBackslashAndControls);
    CPPUNIT_TEST(testDumpEscapesEveryControlCharacter);
    CPPUNIT_TEST(testDumpEmbeddedNul);
    CPPUNIT_TEST(testDumpKeepsValidUtf8);
    CPPUNIT_TEST(testDumpReplacesInvalidUtf8);
    CPPUNIT_TEST(testDumpReplacesInvalidUtf8InKeys);
    CPPUNIT_TEST(testAppendJsonStringAppends);
    CPPUNIT_TEST(testDumpEscapesAtEveryLengthAndPosition);
    CPPUNIT_TEST(testEscapeStaysWithinItsRoom);
    CPPUNIT_TEST(testTypedReads);
    CPPUNIT_TEST(testTypeMismatchThrows);
    CPPUNIT_TEST(testAsIntFromDouble);
    CPPUNIT_TEST(testFindAndIndex);
    CPPUNIT_TEST(testMutableIndexAndSet);
    CPPUNIT_TEST(testPushAndAt);
    CPPUNIT_TEST(testEquality);
    CPPUNIT_TEST(testParseScalarsAndContainers);
    CPPUNIT_TEST(testParseIntegerEdges);
    CPPUNIT_TEST(testParseHugeNumbers);
    CPPUNIT_TEST(testParseDoubles);
    CPPUNIT_TEST(testParseEscapes);
    CPPUNIT_TEST(testParseDuplicateKeysLastWins);
    CPPUNIT_TEST(testParseAllowsSurroundingWhitespace);
    CPPUNIT_TEST(testParseRejectsTrailingGarbage);
    CPPUNIT_TEST(testParseRejectsMalformed);
    CPPUNIT_TEST(testParseErrorNamesOffset);
    CPPUNIT_TEST(testParseRejectsNul);
    CPPUNIT_TEST(testParseRejectsInvalidUtf8);
    CPPUNIT_TEST(testParseRejectsRawControlCharacters);
    CPPUNIT_TEST(testParseRejectsBrokenSurrogatePairs);
    CPPUNIT_TEST(testParsedStringsAreValidUtf8);
    CPPUNIT_TEST(testParseDepthLimitBoundary);
    CPPUNIT_TEST(testParseRefusesDeepNesting);
    CPPUNIT_TEST(testParseRefusesHugeUnterminatedNesting);
    CPPUNIT_TEST(testRoundTrip);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testDumpScalars() {
        CPPUNIT_ASSERT_EQUAL(std::string("null"), Json().dump());
        CPPUNIT_ASSERT_EQUAL(std::string("null"), Json(nullptr).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("true"), Json(true).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("false"), Json(false).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("0"), Json(0).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("-17"), Json(-17).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("\"abc\""), Json("abc").dump());
        CPPUNIT_ASSERT_EQUAL(std::string("\"\""), Json("").dump());
        CPPUNIT_ASSERT_EQUAL(std::string("[]"), Json::array().dump());
        CPPUNIT_ASSERT_EQUAL(std::string("{}"), Json::object().dump());
        CPPUNIT_ASSERT_EQUAL(std::string("[1,\"a\",null,true]"), Json::array({1, "a", nullptr, true}).dump());
        CPPUNIT_ASSERT(Json(true).isBool());
        CPPUNIT_ASSERT(Json(7).isInt());
        CPPUNIT_ASSERT(Json(std::string_view("x")).isString());
    }

    void testDumpIntegerEdges() {
        CPPUNIT_ASSERT_EQUAL(std::string("9223372036854775807"),
                             Json(std::numeric_limits<std::int64_t>::max()).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("-9223372036854775808"),
                             Json(std::numeric_limits<std::int64_t>::min()).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("4294967295"), Json(std::uint32_t(4294967295u)).dump());
    }

    void testDumpDoubles() {
        CPPUNIT_ASSERT_EQUAL(std::string("1.5"), Json(1.5).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("0.1"), Json(0.1).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("-2.25"), Json(-2.25).dump());
        // Shortest round-trip representation of huge and tiny values, still valid JSON.
        CPPUNIT_ASSERT_EQUAL(std::string("1e+308"), Json(1e308).dump());
        CPPUNIT_ASSERT_EQUAL(1e308, Json::parse(Json(1e308).dump()).asDouble());
        double tiny = std::numeric_limits<double>::denorm_min();
        CPPUNIT_ASSERT_EQUAL(tiny, Json::parse(Json(tiny).dump()).asDouble());
        double max = std::numeric_limits<double>::max();
        CPPUNIT_ASSERT_EQUAL(max, Json::parse(Json(max).dump()).asDouble());
    }

    // Json(I) takes any integral type; an unsigned value above INT64_MAX must not wrap into a
    // negative number (Json::parse keeps such numbers as doubles for the same reason).
    void testUnsignedAboveInt64NotWrapped() {
        CPPUNIT_ASSERT_EQUAL(std::string("42"), Json(std::uint64_t(42)).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("9223372036854775807"), Json(std::uint64_t(INT64_MAX)).dump());
        for (std::uint64_t big : {std::uint64_t(INT64_MAX) + 1, std::numeric_limits<std::uint64_t>::max()}) {
            Json value(big);
            CPPUNIT_ASSERT_MESSAGE("Json(" + std::to_string(big) + ").dump() = " + value.dump(),
                                   value.dump()[0] != '-');
            CPPUNIT_ASSERT_MESSAGE(std::to_string(big), value.asDouble() > 9.2e18);
        }
    }

    void testNonFiniteDoublesDumpAsNull() {
        CPPUNIT_ASSERT_EQUAL(std::string("null"), Json(std::nan("")).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("null"), Json(std::numeric_limits<double>::infinity()).dump());
        CPPUNIT_ASSERT_EQUAL(std::string("null"), Json(-std::numeric_limits<double>::infinity()).dump());
        Json doc = Json::object({{"a", std::nan("")}, {"b", Json::array({HUGE_VAL, 1})}});
        CPPUNIT_ASSERT_EQUAL(std::string("{\"a\":null,\"b\":[null,1]}"), doc.dump());
        // The value itself stays a double; only its text is null.
        CPPUNIT_ASSERT(Json(std::nan("")).isNumber());
    }

    void testDumpKeepsMemberOrder() {
        Json doc = Json::object({{"z", 1}, {"a", 2}, {"m", Json::object({{"y", 3}, {"b", 4}})}});
        doc["c"] = "new";
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"z":1,"a":2,"m":{"y":3,"b":4},"c":"new"})"), doc.dump());
        std::string out = "prefix:";
        doc.dumpTo(out);
        CPPUNIT_ASSERT_EQUAL(std::string("prefix:") + doc.dump(), out);
    }

    void testDumpEscapesQuotesBackslashAndControls() {
        CPPUNIT_ASSERT_EQUAL(std::string(R"("say \"hi\" \\ bye")"), dumpString("say \"hi\" \\ bye"));
        CPPUNIT_ASSERT_EQUAL(std::string(R"("\n\r\t\b\f")"), dumpString("\n\r\t\b\f"));
        // '/' and DEL need no escaping and are written as they are.
        CPPUNIT_ASSERT_EQUAL(std::string("\"a/b\x7f\""), dumpString("a/b\x7f"));
    }

    void testDumpEscapesEveryControlCharacter() {
        for (int c = 0; c < 0x20; ++c) {
            std::string dumped = dumpString(std::string(1, static_cast<char>(c)));
            for (char ch : dumped)
                CPPUNIT_ASSERT_MESSAGE("raw control character in dump of " + std::to_string(c),
                                       static_cast<unsigned char>(ch) >= 0x20);
            // Whatever the escape, it must read back as the same character.
            CPPUNIT_ASSERT_EQUAL(std::string(1, static_cast<char>(c)), Json::parse(dumped).asString());
        }
        CPPUNIT_ASSERT_EQUAL(std::string(R"("\u0001\u001f\u000b")"), dumpString("\x01\x1f\x0b"));
    }

    void testDumpEmbeddedNul() {
        CPPUNIT_ASSERT_EQUAL(std::string(R"("a\u0000b")"), dumpString(std::string("a\0b", 3)));
    }

    void testDumpKeepsValidUtf8() {
        const std::string text =
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";  // é € 😀 U+10FFFF
        CPPUNIT_ASSERT_EQUAL("\"" + text + "\"", dumpString(text));
    }

    void testDumpReplacesInvalidUtf8() {
        const std::string r = "\\ufffd";
        CPPUNIT_ASSERT_EQUAL("\"" + r + "\"", dumpString("\xff"));
        CPPUNIT_ASSERT_EQUAL("\"a" + r + "b\"", dumpString("a\xff"
                                                           "b"));
        CPPUNIT_ASSERT_EQUAL("\"" + r + "\"", dumpString("\x80"));                  // lone continuation
        CPPUNIT_ASSERT_EQUAL("\"" + r + r + "\"", dumpString("\xc0\x80"));          // overlong NUL
        CPPUNIT_ASSERT_EQUAL("\"" + r + r + r + "\"", dumpString("\xe0\x80\xaf"));  // overlong '/'
        CPPUNIT_ASSERT_EQUAL("\"" + r + r + r + "\"", dumpString("\xed\xa0\x80"));  // surrogate D800
        CPPUNIT_ASSERT_EQUAL("\"" + r + r + r + r + "\"", dumpString("\xf4\x90\x80\x80"));  // > U+10FFFF
        CPPUNIT_ASSERT_EQUAL("\"" + r + r + "\"", dumpString("\xe2\x82"));  // truncated at end
        CPPUNIT_ASSERT_EQUAL("\"" + r + "x\"", dumpString("\xc3x"));        // bad continuation
        CPPUNIT_ASSERT_EQUAL("\"" + r + "\"", dumpString("\xf5"));
        // What is dumped is always valid JSON that parses back.
        std::string dumped = dumpString("ok \xfe\xff \xc3\xa9");
        CPPUNIT_ASSERT_EQUAL(std::string("ok \xef\xbf\xbd\xef\xbf\xbd \xc3\xa9"),
                             Json::parse(dumped).asString());
    }

    void testDumpReplacesInvalidUtf8InKeys() {
        Json doc = Json::object({{"k\xff", "v\xfe"}});
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"k\ufffd":"v\ufffd"})"), doc.dump());
    }

    void testAppendJsonStringAppends() {
        std::string out = "x=";
        berth::appendJsonString(out, "a\"b");
        CPPUNIT_ASSERT_EQUAL(std::string(R"(x="a\"b")"), out);
    }

    // The escaper checks 8 bytes at a time and a short tail as one padded word: a byte needing
    // work must be found whatever its position and the string's length, and nothing past the
    // end may leak into the output.
    void testDumpEscapesAtEveryLengthAndPosition() {
        const std::pair<std::string, std::string> specials[] = {
            {"\"", "\\\""},           {"\\", "\\\\"},      {"\n", "\\n"}, {std::string(1, '\x01'), "\\u0001"},
            {"\xc3\xa9", "\xc3\xa9"}, {"\xff", "\\ufffd"}, {"~", "~"}};
        for (std::size_t length = 0; length <= 20; ++length) {
            CPPUNIT_ASSERT_EQUAL("\"" + std::string(length, 'x') + "\"",
                                 dumpString(std::string(length, 'x')));
            for (std::size_t at = 0; at < length; ++at) {
                for (const auto& [raw, escaped] : specials) {
                    std::string text = std::string(at, 'x') + raw + std::string(length - at - 1, 'y');
                    std::string expected =
                        "\"" + std::string(at, 'x') + escaped + std::string(length - at - 1, 'y') + "\"";
                    CPPUNIT_ASSERT_EQUAL_MESSAGE(
                        "length " + std::to_string(length) + " at " + std::to_string(at), expected,
                        dumpString(text));
                }
            }
        }
    }

    // writeJsonString may store a whole 8-byte word for a short tail: it must still stay within
    // maxEscapedLength(n), which is all the room its callers reserve.
    void testEscapeStaysWithinItsRoom() {
        const std::string pieces[] = {"x", "\"", "\xc3\xa9", "\xff", "\x01", "ab"};
        for (std::size_t length = 0; length <= 24; ++length) {
            for (const std::string& piece : pieces) {
                std::string text;
                while (text.size() < length) text += piece;
                text.resize(length);
                const std::size_t room = berth::internal::maxEscapedLength(text.size());
                std::string buffer(room + 16, '\x5a');
                char* end = berth::internal::writeJsonString(buffer.data(), text);
                CPPUNIT_ASSERT(end <= buffer.data() + room);
                CPPUNIT_ASSERT_EQUAL_MESSAGE("guard bytes overwritten for length " + std::to_string(length),
                                             std::string(16, '\x5a'), buffer.substr(room));
            }
        }
    }

    void testTypedReads() {
        CPPUNIT_ASSERT_EQUAL(true, Json(true).asBool());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(42), Json(42).asInt());
        CPPUNIT_ASSERT_EQUAL(42.0, Json(42).asDouble());
        CPPUNIT_ASSERT_EQUAL(2.5, Json(2.5).asDouble());
        CPPUNIT_ASSERT_EQUAL(std::string("s"), Json("s").asString());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), Json::array({1, 2}).asArray().size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), Json::object({{"a", 1}}).asObject().size());
        CPPUNIT_ASSERT(Json::Type::Double == Json(2.5).type());
        CPPUNIT_ASSERT(Json::Type::Object == Json::object().type());
    }

    void testTypeMismatchThrows() {
        CPPUNIT_ASSERT_EQUAL(std::string("JSON value is a string, not an integer"),
                             thrownMessage<JsonError>([] { Json("1").asInt(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("JSON value is null, not a boolean"),
                             thrownMessage<JsonError>([] { Json().asBool(); }));
        CPPUNIT_ASSERT_THROW(Json(1).asBool(), JsonError);
        CPPUNIT_ASSERT_THROW(Json(1).asString(), JsonError);
        CPPUNIT_ASSERT_THROW(Json("x").asDouble(), JsonError);
        CPPUNIT_ASSERT_THROW(Json(true).asDouble(), JsonError);
        CPPUNIT_ASSERT_THROW(Json::object().asArray(), JsonError);
        CPPUNIT_ASSERT_THROW(Json::array().asObject(), JsonError);
        Json mutableValue = 3;
        CPPUNIT_ASSERT_THROW(mutableValue.asArray(), JsonError);
        CPPUNIT_ASSERT_THROW(mutableValue.asObject(), JsonError);
    }

    void testAsIntFromDouble() {
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), Json(3.0).asInt());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-3), Json(-3.0).asInt());
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::int64_t>::min(), Json(-9223372036854775808.0).asInt());
        CPPUNIT_ASSERT_THROW(Json(3.5).asInt(), JsonError);
        CPPUNIT_ASSERT_THROW(Json(9223372036854775808.0).asInt(), JsonError);  // 2^63 does not fit
        CPPUNIT_ASSERT_THROW(Json(1e300).asInt(), JsonError);
        CPPUNIT_ASSERT_THROW(Json(-1e300).asInt(), JsonError);
        CPPUNIT_ASSERT_THROW(Json(std::nan("")).asInt(), JsonError);
        CPPUNIT_ASSERT_THROW(Json(std::numeric_limits<double>::infinity()).asInt(), JsonError);
    }

    void testFindAndIndex() {
        const Json doc = Json::object({{"a", 1}, {"b", Json::object({{"c", "deep"}})}});
        CPPUNIT_ASSERT(doc.find("a") != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), doc.find("a")->asInt());
        CPPUNIT_ASSERT(doc.find("missing") == nullptr);
        CPPUNIT_ASSERT(doc.find("") == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("deep"), doc["b"]["c"].asString());
        CPPUNIT_ASSERT(doc["missing"].isNull());
        CPPUNIT_ASSERT(doc["missing"]["deeper"].isNull());
        // Not an object: find is nullptr and [] is null, never a throw.
        const Json number = 5;
        CPPUNIT_ASSERT(number.find("a") == nullptr);
        CPPUNIT_ASSERT(number["a"].isNull());
        const Json array = Json::array({1});
        CPPUNIT_ASSERT(array.find("0") == nullptr);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), number.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), doc.size());
    }

    void testMutableIndexAndSet() {
        Json doc;  // null becomes an object
        doc["a"] = 1;
        doc["a"] = 2;  // replaced, not duplicated
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), doc.size());
        doc.set("b", "x").set("b", "y").set("c", nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"a":2,"b":"y","c":null})"), doc.dump());
        Json array = Json::array();
        CPPUNIT_ASSERT_THROW(array["a"], JsonError);
        Json number = 1;
        CPPUNIT_ASSERT_THROW(number.set("a", 1), JsonError);
    }

    void testPushAndAt() {
        Json list;  // null becomes an array
        list.push(1).push("two").push(Json::array());
        CPPUNIT_ASSERT_EQUAL(std::string(R"([1,"two",[]])"), list.dump());
        CPPUNIT_ASSERT_EQUAL(std::string("two"), list.at(1).asString());
        CPPUNIT_ASSERT_EQUAL(std::string("JSON array index 3 out of range (size 3)"),
                             thrownMessage<JsonError>([&] { list.at(3); }));
        CPPUNIT_ASSERT_THROW(list.at(static_cast<std::size_t>(-1)), JsonError);
        CPPUNIT_ASSERT_THROW(Json::object().at(0), JsonError);
        Json object = Json::object();
        CPPUNIT_ASSERT_THROW(object.push(1), JsonError);
    }

    void testEquality() {
        CPPUNIT_ASSERT(Json(1) == Json(1));
        CPPUNIT_ASSERT(Json(1) != Json(1.0));  // int and double are different types
        CPPUNIT_ASSERT(Json::object({{"a", 1}}) != Json::object({{"a", 2}}));
        CPPUNIT_ASSERT(Json::array({1, "x"}) == Json::array({1, "x"}));
    }

    void testParseScalarsAndContainers() {
        CPPUNIT_ASSERT(Json::parse("null").isNull());
        CPPUNIT_ASSERT_EQUAL(true, Json::parse("true").asBool());
        CPPUNIT_ASSERT_EQUAL(false, Json::parse("false").asBool());
        CPPUNIT_ASSERT_EQUAL(std::string("x"), Json::parse("\"x\"").asString());
        Json doc = Json::parse(R"({"a":[1,2,{"b":null}],"c":{},"d":[]})");
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"a":[1,2,{"b":null}],"c":{},"d":[]})"), doc.dump());
        CPPUNIT_ASSERT(doc["a"].at(2)["b"].isNull());
        CPPUNIT_ASSERT(doc["a"].at(2).find("b") != nullptr);
        CPPUNIT_ASSERT(doc["c"].isObject());
        CPPUNIT_ASSERT(doc["d"].isArray());
        // Keys keep document order.
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"z":1,"a":2})"), Json::parse(R"({"z":1,"a":2})").dump());
    }

    void testParseIntegerEdges() {
        Json max = Json::parse("9223372036854775807");
        CPPUNIT_ASSERT(max.isInt());
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::int64_t>::max(), max.asInt());
        Json min = Json::parse("-9223372036854775808");
        CPPUNIT_ASSERT(min.isInt());
        CPPUNIT_ASSERT_EQUAL(std::numeric_limits<std::int64_t>::min(), min.asInt());
        CPPUNIT_ASSERT(Json::parse("4294967295").isInt());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(4294967296), Json::parse("4294967296").asInt());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(-2147483649), Json::parse("-2147483649").asInt());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), Json::parse("0").asInt());
    }

    void testParseHugeNumbers() {
        // One past int64 either way: kept as a double, never wrapped into a negative/positive int.
        Json over = Json::parse("9223372036854775808");
        CPPUNIT_ASSERT(!over.isInt());
        CPPUNIT_ASSERT(over.isNumber());
        CPPUNIT_ASSERT_EQUAL(9223372036854775808.0, over.asDouble());
        CPPUNIT_ASSERT_THROW(over.asInt(), JsonError);
        Json under = Json::parse("-9223372036854775809");
        CPPUNIT_ASSERT(!under.isInt());
        CPPUNIT_ASSERT(under.asDouble() < 0);
        Json u64 = Json::parse("18446744073709551615");
        CPPUNIT_ASSERT(!u64.isInt());
        CPPUNIT_ASSERT_EQUAL(18446744073709551615.0, u64.asDouble());
        Json bigger = Json::parse("123456789012345678901234567890");
        CPPUNIT_ASSERT(!bigger.isInt());
        CPPUNIT_ASSERT(bigger.asDouble() > 1.2e29 && bigger.asDouble() < 1.3e29);
        CPPUNIT_ASSERT_EQUAL(1e308, Json::parse("1e308").asDouble());
        // Beyond double: refused, not turned into infinity.
        CPPUNIT_ASSERT_THROW(Json::parse("1e400"), JsonError);
        CPPUNIT_ASSERT_THROW(Json::parse("-1e400"), JsonError);
    }

    void testParseDoubles() {
        CPPUNIT_ASSERT_EQUAL(1.5, Json::parse("1.5").asDouble());
        CPPUNIT_ASSERT_EQUAL(-0.25, Json::parse("-0.25").asDouble());
        CPPUNIT_ASSERT_EQUAL(1000.0, Json::parse("1e3").asDouble());
        CPPUNIT_ASSERT_EQUAL(0.1, Json::parse("0.1").asDouble());  // full precision
        CPPUNIT_ASSERT_EQUAL(2.0, Json::parse("2.0").asDouble());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), Json::parse("2.0").asInt());
    }

    void testParseEscapes() {
        CPPUNIT_ASSERT_EQUAL(std::string("\"\\/\b\f\n\r\t"), Json::parse(R"("\"\\\/\b\f\n\r\t")").asString());
        CPPUNIT_ASSERT_EQUAL(std::string("\xc3\xa9"), Json::parse(R"("\u00e9")").asString());
        CPPUNIT_ASSERT_EQUAL(std::string("\xf0\x9f\x98\x80"), Json::parse(R"("\ud83d\ude00")").asString());
        CPPUNIT_ASSERT_EQUAL(std::string("a\0b", 3), Json::parse(R"("a\u0000b")").asString());
        CPPUNIT_ASSERT_EQUAL(std::string("\xc3\xa9"), Json::parse("\"\xc3\xa9\"").asString());
    }

    void testParseDuplicateKeysLastWins() {
        Json doc = Json::parse(R"({"a":1,"b":0,"a":2})");
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), doc.find("a")->asInt());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(2), doc["a"].asInt());
        Json copy = doc;
        copy["a"] = 3;  // the mutable index updates the one find() reads
        CPPUNIT_ASSERT_EQUAL(std::int64_t(3), copy.find("a")->asInt());
    }

    void testParseAllowsSurroundingWhitespace() {
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), Json::parse(" \t\r\n1 \n").asInt());
        CPPUNIT_ASSERT(Json::parse("\n{ \"a\" : [ ] }\n").isObject());
    }

    void testParseRejectsTrailingGarbage() {
        for (const char* text :
             {"{} x", "1 2", "[]]", "{}{}", "true false", "\"a\"\"b\"", "null,", "1x", "{}\x01"})
            CPPUNIT_ASSERT_THROW_MESSAGE(text, Json::parse(text), JsonError);
    }

    void testParseRejectsMalformed() {
        for (const char* text : {"",          " ",           "{",         "}",
                                 "[",         "[1,]",        "[,1]",      "{\"a\":}",
                                 "{\"a\" 1}", "{'a':1}",     "{a:1}",     "{\"a\":1,}",
                                 "nul",       "tru",         "True",      "NULL",
                                 "NaN",       "Infinity",    "-Infinity", "01",
                                 "-",         "+1",          ".5",        "1.",
                                 "1e",        "0x10",        "\"abc",     "\"\\x\"",
                                 "\"\\u12\"", "\"\\u12g4\"", "[1 2]",     "{\"a\":1 \"b\":2}",
                                 "//c\n1",    "/*c*/1"})
            CPPUNIT_ASSERT_THROW_MESSAGE(std::string("'") + text + "'", Json::parse(text), JsonError);
    }

    void testParseErrorNamesOffset() {
        std::string message = thrownMessage<JsonError>([] { Json::parse("[1,x]"); });
        CPPUNIT_ASSERT_MESSAGE(message, contains(message, "invalid JSON at offset 3"));
    }

    void testParseRejectsNul() {
        CPPUNIT_ASSERT_EQUAL(std::string("invalid JSON: NUL byte"),
                             thrownMessage<JsonError>([] { Json::parse(std::string("{}\0", 3)); }));
        CPPUNIT_ASSERT_THROW(Json::parse(std::string("\"a\0b\"", 5)), JsonError);
        CPPUNIT_ASSERT_THROW(Json::parse(std::string("\0", 1)), JsonError);
        // A NUL after a complete document must not be taken for the end of the text.
        CPPUNIT_ASSERT_THROW(Json::parse(std::string("1\0garbage", 9)), JsonError);
    }

    void testParseRejectsInvalidUtf8() {
        for (const std::string text :
             {"\"\xff\"", "\"\x80\"", "\"\xc0\x80\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
              "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "\"\xc3x\"", "{\"k\xff\":1}"})
            CPPUNIT_ASSERT_THROW_MESSAGE(text, Json::parse(text), JsonError);
    }

    void testParseRejectsRawControlCharacters() {
        CPPUNIT_ASSERT_THROW(Json::parse("\"a\nb\""), JsonError);
        CPPUNIT_ASSERT_THROW(Json::parse("\"a\tb\""), JsonError);
        CPPUNIT_ASSERT_THROW(Json::parse("\"\x1f\""), JsonError);
    }

    void testParseRejectsBrokenSurrogatePairs() {
        CPPUNIT_ASSERT_THROW(Json::parse(R"("\ud800")"), JsonError);        // high, nothing after
        CPPUNIT_ASSERT_THROW(Json::parse(R"("\ud800x")"), JsonError);       // high, then a letter
        CPPUNIT_ASSERT_THROW(Json::parse(R"("\ud800\u0041")"), JsonError);  // high, then not a low
        CPPUNIT_ASSERT_THROW(Json::parse(R"("\ud800\ud800")"), JsonError);  // high, high
    }

    // Json::parse validates the text's encoding so that handlers only ever see valid UTF-8; an
    // escaped lone low surrogate must not smuggle invalid UTF-8 (ED B0 80) into a string.
    void testParsedStringsAreValidUtf8() {
        for (const char* text : {R"("\udc00")", R"("\udfff")", R"("a\udc00b")", R"({"\udc00":1})"}) {
            Json value;
            try {
                value = Json::parse(text);
            } catch (const JsonError&) {
                continue;  // refusing it is fine too
            }
            std::string s = value.isString() ? value.asString() : value.asObject().front().first;
            CPPUNIT_ASSERT_MESSAGE(std::string("Json::parse(") + text + ") produced invalid UTF-8",
                                   validUtf8(s));
        }
    }

    void testParseDepthLimitBoundary() {
        Json deepest = Json::parse(nested(512, "[", "", "]"));
        const Json* at = &deepest;
        std::size_t depth = 0;
        while (at->isArray() && at->size() == 1) at = &at->at(0), ++depth;
        CPPUNIT_ASSERT_EQUAL(std::size_t(511), depth);
        CPPUNIT_ASSERT_THROW(Json::parse(nested(513, "[", "", "]")), JsonError);
        CPPUNIT_ASSERT_NO_THROW(Json::parse(nested(512, "{\"a\":", "1", "}")));
        CPPUNIT_ASSERT_THROW(Json::parse(nested(513, "{\"a\":", "1", "}")), JsonError);
    }

    void testParseRefusesDeepNesting() {
        std::string message = thrownMessage<JsonError>([] { Json::parse(nested(600, "[", "", "]")); });
        CPPUNIT_ASSERT_EQUAL(std::string("invalid JSON: nested deeper than 512 levels"), message);
        CPPUNIT_ASSERT_THROW(Json::parse(nested(600, "{\"k\":", "null", "}")), JsonError);
        CPPUNIT_ASSERT_THROW(Json::parse(nested(300, "[{\"k\":", "1", "}]")), JsonError);
        CPPUNIT_ASSERT_THROW(Json::parse(nested(100000, "[", "", "]")), JsonError);
    }

    void testParseRefusesHugeUnterminatedNesting() {
        CPPUNIT_ASSERT_THROW(Json::parse(std::string(1000000, '[')), JsonError);
        CPPUNIT_ASSERT_THROW(Json::parse(std::string(200, '[')), JsonError);  // under the limit, unterminated
    }

    void testRoundTrip() {
        Json doc = Json::object({{"int", std::numeric_limits<std::int64_t>::min()},
                                 {"double", 0.1},
                                 {"string", "tab\tquote\"nul" + std::string(1, '\0') + "\xc3\xa9"},
                                 {"array", Json::array({nullptr, true, false, Json::object()})},
                                 {"object", Json::object({{"nested", Json::array({Json::array()})}})}});
        CPPUNIT_ASSERT(doc == Json::parse(doc.dump()));
        CPPUNIT_ASSERT_EQUAL(doc.dump(), Json::parse(doc.dump()).dump());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(JsonTest);
