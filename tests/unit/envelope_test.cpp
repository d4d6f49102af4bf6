// The exact bytes of the success and error envelopes, including escaping.
#include <cppunit/extensions/HelperMacros.h>

#include <climits>
#include <cstdint>
#include <limits>
#include <string>

#include "berth/json.h"
#include "http/envelope.h"

using berth::Json;
using berth::server::writeErrorEnvelope;
using berth::server::writeSuccessEnvelope;

namespace {

std::string success(const Json& data) {
    std::string out;
    writeSuccessEnvelope(out, data);
    return out;
}

std::string error(int code, const std::string& message, const Json& detail, const std::string& requestId) {
    std::string out;
    writeErrorEnvelope(out, code, message, detail, requestId);
    return out;
}

}  // namespace

class EnvelopeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EnvelopeTest);
    CPPUNIT_TEST(testSuccessBytes);
    CPPUNIT_TEST(testSuccessWithScalarsAndNull);
    CPPUNIT_TEST(testSuccessEscapesData);
    CPPUNIT_TEST(testErrorBytes);
    CPPUNIT_TEST(testErrorEscapesMessageAndRequestId);
    CPPUNIT_TEST(testErrorWithTraceId);
    CPPUNIT_TEST(testErrorCodeRange);
    CPPUNIT_TEST(testAppendsToExistingText);
    CPPUNIT_TEST(testEnvelopesParseBack);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testSuccessBytes() {
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"id":7,"tags":["a","b"]}})"),
            success(Json::object({{"id", 7}, {"tags", Json::array({"a", "b"})}})));
    }

    void testSuccessWithScalarsAndNull() {
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":null})"),
                             success(Json()));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":"hi"})"),
                             success("hi"));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":[]})"),
                             success(Json::array()));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"status":true,"code":0,"message":"ok","data":null})"),
                             success(Json(std::numeric_limits<double>::quiet_NaN())));
    }

    void testSuccessEscapesData() {
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":true,"code":0,"message":"ok","data":{"q\"":"a\nb\ufffd"}})"),
            success(Json::object({{"q\"", "a\nb\xff"}})));
    }

    void testErrorBytes() {
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":40401,"message":"visit task not found","error":"no task with id 7","request_id":"abc-123"})"),
            error(40401, "visit task not found", "no task with id 7", "abc-123"));
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":500,"message":"internal server error","error":null,"request_id":"r"})"),
            error(500, "internal server error", nullptr, "r"));
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":422,"message":"m","error":{"field":"name","max":3},"request_id":""})"),
            error(422, "m", Json::object({{"field", "name"}, {"max", 3}}), ""));
    }

    void testErrorEscapesMessageAndRequestId() {
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":400,"message":"say \"no\"\\\r\n\u0001","error":"\ufffd","request_id":"a\"b"})"),
            error(400, "say \"no\"\\\r\n\x01", "\xfe", "a\"b"));
    }

    void testErrorWithTraceId() {
        std::string out;
        writeErrorEnvelope(out, 50402, "timed out", nullptr, "rid-1", "463ac35c9f6413ad48485a3953bb6124");
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":50402,"message":"timed out","error":null,"request_id":"rid-1","trace_id":"463ac35c9f6413ad48485a3953bb6124"})"),
            out);
        out.clear();
        writeErrorEnvelope(out, 400, "m", nullptr, "r", "a\"b");  // escaped like the request id
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"({"status":false,"code":400,"message":"m","error":null,"request_id":"r","trace_id":"a\"b"})"),
            out);
        out.clear();
        writeErrorEnvelope(out, 400, "m", nullptr, "r", "");  // not traced: no field at all
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":false,"code":400,"message":"m","error":null,"request_id":"r"})"), out);
    }

    void testErrorCodeRange() {
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":false,"code":-1,"message":"","error":null,"request_id":"r"})"),
            error(-1, "", nullptr, "r"));
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":false,"code":-2147483648,"message":"","error":null,"request_id":"r"})"),
            error(INT_MIN, "", nullptr, "r"));
        CPPUNIT_ASSERT_EQUAL(
            std::string(R"({"status":false,"code":2147483647,"message":"","error":null,"request_id":"r"})"),
            error(INT_MAX, "", nullptr, "r"));
    }

    void testAppendsToExistingText() {
        std::string out = "X";
        writeSuccessEnvelope(out, 1);
        writeErrorEnvelope(out, 1, "m", nullptr, "r");
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                R"(X{"status":true,"code":0,"message":"ok","data":1}{"status":false,"code":1,"message":"m","error":null,"request_id":"r"})"),
            out);
    }

    void testEnvelopesParseBack() {
        Json ok = Json::parse(success(Json::object({{"k", "v\x01"}})));
        CPPUNIT_ASSERT_EQUAL(true, ok["status"].asBool());
        CPPUNIT_ASSERT_EQUAL(std::string("v\x01"), ok["data"]["k"].asString());
        Json bad = Json::parse(error(409, "conflict \"x\"", Json::array({1}), "id"));
        CPPUNIT_ASSERT_EQUAL(false, bad["status"].asBool());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(409), bad["code"].asInt());
        CPPUNIT_ASSERT_EQUAL(std::string("conflict \"x\""), bad["message"].asString());
        CPPUNIT_ASSERT_EQUAL(std::string("id"), bad["request_id"].asString());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EnvelopeTest);
