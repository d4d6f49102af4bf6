// berth::internal::percentDecode: shared by query parameters ('+' is a space) and path segments.
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "percent_decode.h"

using berth::internal::percentDecode;

namespace {

// The decoded text, or "<invalid>" when percentDecode refuses it.
std::string decode(const std::string& text, bool plusIsSpace) {
    std::string out;
    if (!percentDecode(text, out, plusIsSpace)) return "<invalid>";
    return out;
}

}  // namespace

class PercentDecodeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PercentDecodeTest);
    CPPUNIT_TEST(testPlainTextUnchanged);
    CPPUNIT_TEST(testEscapes);
    CPPUNIT_TEST(testPlus);
    CPPUNIT_TEST(testBrokenEscapes);
    CPPUNIT_TEST(testEncodedNulRefused);
    CPPUNIT_TEST(testAppends);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testPlainTextUnchanged() {
        CPPUNIT_ASSERT_EQUAL(std::string(""), decode("", true));
        CPPUNIT_ASSERT_EQUAL(std::string("abc-._~/?=&"), decode("abc-._~/?=&", false));
    }

    void testEscapes() {
        CPPUNIT_ASSERT_EQUAL(std::string("a b"), decode("a%20b", false));
        CPPUNIT_ASSERT_EQUAL(std::string("/"), decode("%2F", false));
        CPPUNIT_ASSERT_EQUAL(std::string("/"), decode("%2f", false));
        CPPUNIT_ASSERT_EQUAL(std::string("%"), decode("%25", false));
        CPPUNIT_ASSERT_EQUAL(std::string("%41"), decode("%2541", false));  // decoded once only
        CPPUNIT_ASSERT_EQUAL(std::string("\xc3\xa9"), decode("%C3%A9", false));
        CPPUNIT_ASSERT_EQUAL(std::string("\xff"), decode("%ff", false));
        CPPUNIT_ASSERT_EQUAL(std::string("\x01"), decode("%01", false));
    }

    void testPlus() {
        CPPUNIT_ASSERT_EQUAL(std::string("a b c"), decode("a+b+c", true));
        CPPUNIT_ASSERT_EQUAL(std::string("a+b"), decode("a+b", false));
        CPPUNIT_ASSERT_EQUAL(std::string("a+b"), decode("a%2Bb", true));  // an encoded '+' stays '+'
    }

    void testBrokenEscapes() {
        for (const char* text :
             {"%", "%4", "a%", "a%4", "%zz", "%g0", "%0g", "%%41", "% 41", "%-1", "%+1", "100%"}) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::string("<invalid>"), decode(text, false));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(text, std::string("<invalid>"), decode(text, true));
        }
    }

    void testEncodedNulRefused() {
        CPPUNIT_ASSERT_EQUAL(std::string("<invalid>"), decode("%00", false));
        CPPUNIT_ASSERT_EQUAL(std::string("<invalid>"), decode("abc%00def", true));
    }

    void testAppends() {
        std::string out = "x";
        CPPUNIT_ASSERT(percentDecode("%41", out, false));
        CPPUNIT_ASSERT_EQUAL(std::string("xA"), out);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PercentDecodeTest);
