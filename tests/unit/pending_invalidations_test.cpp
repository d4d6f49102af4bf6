// The set of keys whose invalidation did not reach Redis (sdk/src/pending_invalidations.h): the
// limit, the retry pacing, and that a write that lands — a retry's DEL, or a put or invalidate that
// took its mark before sending — does not forget a key whose later write failed meanwhile.
#include <cppunit/extensions/HelperMacros.h>

#include <thread>

#include "pending_invalidations.h"

using berth::internal::PendingInvalidations;
using namespace std::chrono_literals;

class PendingInvalidationsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(PendingInvalidationsTest);
    CPPUNIT_TEST(testAddDeliverContains);
    CPPUNIT_TEST(testLimit);
    CPPUNIT_TEST(testRetryPacing);
    CPPUNIT_TEST(testAddedAgainDuringRetryIsKept);
    CPPUNIT_TEST(testWriteLandingAfterALaterFailureKeepsIt);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testAddDeliverContains() {
        PendingInvalidations pending(10);
        CPPUNIT_ASSERT(pending.empty());
        CPPUNIT_ASSERT(!pending.contains("a"));
        CPPUNIT_ASSERT(pending.add("a"));
        CPPUNIT_ASSERT(pending.add("a"));  // again: still one
        CPPUNIT_ASSERT(!pending.empty());
        CPPUNIT_ASSERT(pending.contains("a"));
        CPPUNIT_ASSERT(!pending.contains("b"));
        pending.delivered("b", pending.mark());
        CPPUNIT_ASSERT(pending.contains("a"));
        pending.delivered("a", pending.mark());  // a write of "a" that began after its failure landed
        CPPUNIT_ASSERT(pending.empty());
        CPPUNIT_ASSERT(!pending.contains("a"));
    }

    void testLimit() {
        PendingInvalidations pending(2);
        CPPUNIT_ASSERT(pending.add("a"));
        CPPUNIT_ASSERT(pending.add("b"));
        CPPUNIT_ASSERT(!pending.add("c"));
        CPPUNIT_ASSERT(!pending.contains("c"));
        CPPUNIT_ASSERT(pending.add("a"));  // one already there is no new entry
        pending.delivered("a", pending.mark());
        CPPUNIT_ASSERT(pending.add("c"));
    }

    void testRetryPacing() {
        PendingInvalidations pending(10);
        CPPUNIT_ASSERT(pending.due(50ms).empty());  // nothing pending
        pending.add("a");
        pending.add("b");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), pending.due(50ms).size());
        CPPUNIT_ASSERT(pending.due(50ms).empty());  // too soon
        std::this_thread::sleep_for(60ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), pending.due(50ms).size());  // nothing was delivered
    }

    void testAddedAgainDuringRetryIsKept() {
        PendingInvalidations pending(10);
        pending.add("a");
        pending.add("b");
        auto keys = pending.due(0ms);
        pending.add("a");  // another failed write of "a" while the retry was on its way
        for (const auto& [key, mark] : keys) pending.delivered(key, mark);
        CPPUNIT_ASSERT(pending.contains("a"));
        CPPUNIT_ASSERT(!pending.contains("b"));
        keys = pending.due(0ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), keys.size());
        pending.delivered(keys[0].first, keys[0].second);
        CPPUNIT_ASSERT(pending.empty());
    }

    // Thread 1 sends a write of "a" (put or invalidate); thread 2's invalidation of "a" begins after
    // it and fails; then thread 1's write lands. Redis holds thread 1's value, older than the state
    // thread 2 invalidated: "a" must stay pending. A write that began after the failure clears it.
    void testWriteLandingAfterALaterFailureKeepsIt() {
        PendingInvalidations pending(10);
        pending.add("b");
        std::uint64_t first = pending.mark();  // thread 1, before sending
        pending.add("a");                      // thread 2's write failed
        pending.delivered("a", first);         // thread 1's write landed
        pending.delivered("b", first);         // it does clear a key that failed before it began
        CPPUNIT_ASSERT(pending.contains("a"));
        CPPUNIT_ASSERT(!pending.contains("b"));
        std::uint64_t later = pending.mark();
        pending.delivered("a", later);
        CPPUNIT_ASSERT(pending.empty());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PendingInvalidationsTest);
