// orderByRequirements: requirements start first, input order otherwise; missing requirements,
// cycles and plugins that depend on refused ones are refused with a reason.
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "plugin/dependency_order.h"

using berth::server::DependencyNode;
using berth::server::DependencyOrder;
using berth::server::orderByRequirements;
using Names = std::vector<std::string>;

class DependencyOrderTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DependencyOrderTest);
    CPPUNIT_TEST(testEmpty);
    CPPUNIT_TEST(testInputOrderWithoutRequirements);
    CPPUNIT_TEST(testRequirementFirst);
    CPPUNIT_TEST(testChainAndDiamond);
    CPPUNIT_TEST(testMissingRequirement);
    CPPUNIT_TEST(testTransitiveRefusal);
    CPPUNIT_TEST(testTwoCycle);
    CPPUNIT_TEST(testSelfCycle);
    CPPUNIT_TEST(testThreeCycleAndDependents);
    CPPUNIT_TEST(testRepeatedRequirement);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testEmpty() {
        DependencyOrder result = orderByRequirements({});
        CPPUNIT_ASSERT(result.order.empty());
        CPPUNIT_ASSERT(result.refused.empty());
    }

    void testInputOrderWithoutRequirements() {
        DependencyOrder result = orderByRequirements({{"c", {}}, {"a", {}}, {"b", {}}});
        CPPUNIT_ASSERT(result.order == Names({"c", "a", "b"}));
        CPPUNIT_ASSERT(result.refused.empty());
    }

    void testRequirementFirst() {
        DependencyOrder result = orderByRequirements({{"dependent", {"base"}}, {"other", {}}, {"base", {}}});
        CPPUNIT_ASSERT(result.order == Names({"base", "dependent", "other"}));
        CPPUNIT_ASSERT(result.refused.empty());
    }

    void testChainAndDiamond() {
        DependencyOrder chain = orderByRequirements({{"c", {"b"}}, {"b", {"a"}}, {"a", {}}});
        CPPUNIT_ASSERT(chain.order == Names({"a", "b", "c"}));
        DependencyOrder diamond =
            orderByRequirements({{"d", {"b", "c"}}, {"c", {"a"}}, {"b", {"a"}}, {"a", {}}});
        CPPUNIT_ASSERT(diamond.order == Names({"a", "b", "c", "d"}));
        CPPUNIT_ASSERT(diamond.refused.empty());
    }

    void testMissingRequirement() {
        DependencyOrder result = orderByRequirements({{"needs", {"ghost"}}, {"fine", {}}});
        CPPUNIT_ASSERT(result.order == Names({"fine"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), result.refused.size());
        CPPUNIT_ASSERT_EQUAL(std::string("requires plugin 'ghost', which is not loaded"),
                             result.refused.at("needs"));
    }

    void testTransitiveRefusal() {
        DependencyOrder result =
            orderByRequirements({{"top", {"middle"}}, {"middle", {"ghost"}}, {"side", {"top"}}, {"ok", {}}});
        CPPUNIT_ASSERT(result.order == Names({"ok"}));
        CPPUNIT_ASSERT_EQUAL(std::string("requires plugin 'ghost', which is not loaded"),
                             result.refused.at("middle"));
        CPPUNIT_ASSERT_EQUAL(std::string("requires plugin 'middle', which cannot start"),
                             result.refused.at("top"));
        CPPUNIT_ASSERT_EQUAL(std::string("requires plugin 'top', which cannot start"),
                             result.refused.at("side"));
        // Visiting a refused plugin a second time still refuses its dependents.
        DependencyOrder late = orderByRequirements({{"middle", {"ghost"}}, {"top", {"middle"}}});
        CPPUNIT_ASSERT(late.order.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("requires plugin 'middle', which cannot start"),
                             late.refused.at("top"));
    }

    void testTwoCycle() {
        DependencyOrder result = orderByRequirements({{"a", {"b"}}, {"b", {"a"}}, {"c", {}}});
        CPPUNIT_ASSERT(result.order == Names({"c"}));
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), result.refused.size());
        CPPUNIT_ASSERT_EQUAL(std::string("requirement cycle: a -> b -> a"), result.refused.at("a"));
        CPPUNIT_ASSERT_EQUAL(std::string("requirement cycle: a -> b -> a"), result.refused.at("b"));
    }

    void testSelfCycle() {
        DependencyOrder result = orderByRequirements({{"narcissus", {"narcissus"}}});
        CPPUNIT_ASSERT(result.order.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("requirement cycle: narcissus -> narcissus"),
                             result.refused.at("narcissus"));
    }

    void testThreeCycleAndDependents() {
        DependencyOrder result =
            orderByRequirements({{"x", {"a"}}, {"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}, {"bystander", {}}});
        CPPUNIT_ASSERT(result.order == Names({"bystander"}));
        CPPUNIT_ASSERT_EQUAL(std::string("requirement cycle: a -> b -> c -> a"), result.refused.at("a"));
        CPPUNIT_ASSERT_EQUAL(std::string("requirement cycle: a -> b -> c -> a"), result.refused.at("b"));
        CPPUNIT_ASSERT_EQUAL(std::string("requirement cycle: a -> b -> c -> a"), result.refused.at("c"));
        CPPUNIT_ASSERT_EQUAL(std::string("requires plugin 'a', which cannot start"), result.refused.at("x"));
    }

    void testRepeatedRequirement() {
        DependencyOrder result = orderByRequirements({{"b", {"a", "a"}}, {"a", {}}});
        CPPUNIT_ASSERT(result.order == Names({"a", "b"}));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DependencyOrderTest);
