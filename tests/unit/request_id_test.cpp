// X-Request-Id: which caller ids are kept, and the shape and uniqueness of generated ones.
#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <string>

#include "http/request_id.h"

using berth::server::generateRequestId;
using berth::server::isSaneRequestId;

class RequestIdTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RequestIdTest);
    CPPUNIT_TEST(testSaneIds);
    CPPUNIT_TEST(testInsaneIds);
    CPPUNIT_TEST(testLengthLimit);
    CPPUNIT_TEST(testHexDigits);
    CPPUNIT_TEST(testGeneratedShape);
    CPPUNIT_TEST(testGeneratedDiffer);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testSaneIds() {
        for (const char* id : {"a", "abc-123", "A_b.c:d-E", "0", "123e4567-e89b-12d3-a456-426614174000"})
            CPPUNIT_ASSERT_MESSAGE(id, isSaneRequestId(id));
    }

    void testInsaneIds() {
        for (const std::string id : {"", "a b", "a\r\nX-Evil: 1", "a\n", "a\tb", "a/b", "a;b", "a\"b", "a,b",
                                     "\xc3\xa9", "a=b", "<script>", "a\\b"})
            CPPUNIT_ASSERT_MESSAGE(id, !isSaneRequestId(id));
        CPPUNIT_ASSERT(!isSaneRequestId(std::string("a\0b", 3)));
    }

    void testLengthLimit() {
        CPPUNIT_ASSERT(isSaneRequestId(std::string(128, 'a')));
        CPPUNIT_ASSERT(!isSaneRequestId(std::string(129, 'a')));
    }

    void testHexDigits() {
        auto hex = [](std::uint64_t value) {
            char out[16];
            berth::server::writeHex(out, value);
            return std::string(out, 16);
        };
        CPPUNIT_ASSERT_EQUAL(std::string("0000000000000000"), hex(0));
        CPPUNIT_ASSERT_EQUAL(std::string("ffffffffffffffff"), hex(~0ull));
        CPPUNIT_ASSERT_EQUAL(std::string("0123456789abcdef"), hex(0x0123456789abcdefull));
        CPPUNIT_ASSERT_EQUAL(std::string("fedcba9876543210"), hex(0xfedcba9876543210ull));
        CPPUNIT_ASSERT_EQUAL(std::string("000000000000000a"), hex(10));
        CPPUNIT_ASSERT_EQUAL(std::string("a000000000000009"), hex(0xa000000000000009ull));
    }

    void testGeneratedShape() {
        std::string id = "previous content that must go";
        generateRequestId(id);
        CPPUNIT_ASSERT_EQUAL(std::size_t(32), id.size());
        for (char c : id) CPPUNIT_ASSERT_MESSAGE(id, (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        CPPUNIT_ASSERT(isSaneRequestId(id));
    }

    void testGeneratedDiffer() {
        std::set<std::string> seen;
        std::string id;
        for (int i = 0; i < 10000; ++i) {
            generateRequestId(id);
            CPPUNIT_ASSERT_EQUAL(std::size_t(32), id.size());
            CPPUNIT_ASSERT_MESSAGE("repeated id " + id, seen.insert(id).second);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RequestIdTest);
