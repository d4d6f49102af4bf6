// PrometheusText: HELP and TYPE lines, label escaping (label values escape \ " and newline; HELP
// escapes \ and newline only), samples with and without labels, and number formatting.
#include <cppunit/extensions/HelperMacros.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "observe/prometheus_text.h"

using berth::server::PrometheusText;

class PrometheusTextTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PrometheusTextTest);
    CPPUNIT_TEST(testFamilyHeader);
    CPPUNIT_TEST(testHelpEscapesBackslashAndNewlineOnly);
    CPPUNIT_TEST(testSampleWithoutLabels);
    CPPUNIT_TEST(testLabelsInOrder);
    CPPUNIT_TEST(testLabelValuesEscaped);
    CPPUNIT_TEST(testIntegers);
    CPPUNIT_TEST(testDoubles);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testFamilyHeader() {
        std::string out;
        PrometheusText(out).family("berth_x_total", "counter", "Things done.");
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP berth_x_total Things done.\n# TYPE berth_x_total counter\n"),
                             out);
    }

    void testHelpEscapesBackslashAndNewlineOnly() {
        std::string out;
        PrometheusText(out).family("m", "gauge", "a \\ b\nc \"q\"");
        CPPUNIT_ASSERT_EQUAL(std::string("# HELP m a \\\\ b\\nc \"q\"\n# TYPE m gauge\n"), out);
    }

    void testSampleWithoutLabels() {
        std::string out;
        PrometheusText(out).sample("m").value(std::uint64_t(7));
        CPPUNIT_ASSERT_EQUAL(std::string("m 7\n"), out);
    }

    void testLabelsInOrder() {
        std::string out;
        PrometheusText text(out);
        text.sample("m").label("a", "1").label("b", "").value(2);
        text.sample("n").label("route", "/visit_tasks/<id:int>").value(3);
        CPPUNIT_ASSERT_EQUAL(std::string("m{a=\"1\",b=\"\"} 2\nn{route=\"/visit_tasks/<id:int>\"} 3\n"), out);
    }

    void testLabelValuesEscaped() {
        std::string out;
        PrometheusText(out).sample("m").label("v", "a\\b\"c\nd{e}/f").value(1);
        CPPUNIT_ASSERT_EQUAL(std::string("m{v=\"a\\\\b\\\"c\\nd{e}/f\"} 1\n"), out);
        std::string raw;
        PrometheusText::appendLabelValue(raw, "x\"");
        CPPUNIT_ASSERT_EQUAL(std::string("x\\\""), raw);
    }

    void testIntegers() {
        std::string out;
        PrometheusText text(out);
        text.sample("a").value(std::numeric_limits<std::uint64_t>::max());
        text.sample("b").value(std::int64_t(-5));
        text.sample("c").value(0);
        CPPUNIT_ASSERT_EQUAL(std::string("a 18446744073709551615\nb -5\nc 0\n"), out);
    }

    void testDoubles() {
        auto text = [](double d) {
            std::string out;
            PrometheusText::appendDouble(out, d);
            return out;
        };
        CPPUNIT_ASSERT_EQUAL(std::string("0.0005"), text(500 / 1e6));
        CPPUNIT_ASSERT_EQUAL(std::string("2.5"), text(2.5));
        CPPUNIT_ASSERT_EQUAL(std::string("10"), text(10.0));
        CPPUNIT_ASSERT_EQUAL(std::string("1234.567891"), text(1234.567891));
        CPPUNIT_ASSERT_EQUAL(std::string("+Inf"), text(std::numeric_limits<double>::infinity()));
        CPPUNIT_ASSERT_EQUAL(std::string("-Inf"), text(-std::numeric_limits<double>::infinity()));
        CPPUNIT_ASSERT_EQUAL(std::string("NaN"), text(std::nan("")));
        // Reads back as the same double.
        CPPUNIT_ASSERT_EQUAL(0.1 + 0.2, std::stod(text(0.1 + 0.2)));
        std::string out;
        PrometheusText(out).sample("s").label("a", "b").value(0.25);
        CPPUNIT_ASSERT_EQUAL(std::string("s{a=\"b\"} 0.25\n"), out);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PrometheusTextTest);
