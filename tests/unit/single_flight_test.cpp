// The single-flight table behind CacheModel::getOrLoad (sdk/src/single_flight.h): a write of the key
// (supersede) keeps every run under way from storing — the flight's leader and a waiter that gave up
// waiting alike — while runs that begin after it store again, and the table holds a key only while a
// run of it is under way, whichever way the runs end.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "single_flight.h"

using berth::internal::SingleFlight;
using namespace std::chrono_literals;

namespace {

// A run that stores by counting: how many of its stores went through.
SingleFlight::Work storing(std::atomic<int>& stores, const std::function<void()>& beforeStore = {}) {
    return [&stores, beforeStore](const SingleFlight::Ticket& ticket) -> SingleFlight::Result {
        if (beforeStore) beforeStore();
        ticket.storeUnlessSuperseded([&stores] { stores.fetch_add(1); });
        return std::make_shared<const int>(1);
    };
}

void waitFor(const std::atomic<bool>& flag) {
    while (!flag) std::this_thread::sleep_for(1ms);
}

}  // namespace

class SingleFlightTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SingleFlightTest);
    CPPUNIT_TEST(testStoresUnlessSuperseded);
    CPPUNIT_TEST(testWaiterThatGaveUpIsSupersededToo);
    CPPUNIT_TEST(testOtherKeysUnaffected);
    CPPUNIT_TEST(testTableHoldsOnlyRunsUnderWay);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testStoresUnlessSuperseded() {
        SingleFlight flights;
        std::atomic<int> stores{0};
        flights.run("k", 1000ms, storing(stores));
        CPPUNIT_ASSERT_EQUAL(1, stores.load());
        flights.run("k", 1000ms, storing(stores, [&] { flights.supersede("k"); }));
        CPPUNIT_ASSERT_EQUAL(1, stores.load());  // written while it ran: not stored
        flights.run("k", 1000ms, storing(stores));
        CPPUNIT_ASSERT_EQUAL(2, stores.load());  // a run after the write stores again
        flights.supersede("k");                  // nothing under way: nothing to do
        flights.run("k", 1000ms, storing(stores));
        CPPUNIT_ASSERT_EQUAL(3, stores.load());
    }

    // The leader hangs; a waiter gives up after 50 ms and runs on its own; the key is written while
    // both run: neither stores.
    void testWaiterThatGaveUpIsSupersededToo() {
        SingleFlight flights;
        std::atomic<int> stores{0};
        std::atomic<bool> leaderRunning{false}, releaseLeader{false}, waiterRunning{false},
            releaseWaiter{false};
        std::thread leader([&] {
            flights.run("k", 50ms, storing(stores, [&] {
                            leaderRunning = true;
                            waitFor(releaseLeader);
                        }));
        });
        waitFor(leaderRunning);
        std::thread waiter([&] {
            flights.run("k", 50ms, storing(stores, [&] {
                            waiterRunning = true;
                            waitFor(releaseWaiter);
                        }));
        });
        waitFor(waiterRunning);
        flights.supersede("k");
        releaseWaiter = true;
        waiter.join();
        releaseLeader = true;
        leader.join();
        CPPUNIT_ASSERT_EQUAL(0, stores.load());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), flights.trackedKeys());
    }

    void testOtherKeysUnaffected() {
        SingleFlight flights;
        std::atomic<int> stores{0};
        flights.run("a", 1000ms, storing(stores, [&] { flights.supersede("b"); }));
        CPPUNIT_ASSERT_EQUAL(1, stores.load());
    }

    // Leaders, waiters that got the result, waiters that gave up, runs that threw, superseded runs:
    // each leaves the table when it ends.
    void testTableHoldsOnlyRunsUnderWay() {
        SingleFlight flights;
        std::atomic<int> stores{0};
        std::atomic<bool> running{false}, release{false};
        std::vector<std::thread> threads;
        threads.emplace_back([&] {
            flights.run("k", 20ms, storing(stores, [&] {
                            running = true;
                            waitFor(release);
                        }));
        });
        waitFor(running);
        threads.emplace_back([&] { flights.run("k", 5000ms, storing(stores)); });  // joins, gets the result
        std::atomic<bool> threw{false};
        threads.emplace_back([&] {  // gives up after 20 ms, then throws
            try {
                flights.run("k", 20ms, [](const SingleFlight::Ticket&) -> SingleFlight::Result {
                    throw std::runtime_error("db");
                });
            } catch (const std::runtime_error&) {
                threw = true;
            }
        });
        std::this_thread::sleep_for(100ms);
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), flights.trackedKeys());
        flights.supersede("k");
        release = true;
        for (std::thread& t : threads) t.join();
        CPPUNIT_ASSERT(threw);
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), flights.trackedKeys());

        CPPUNIT_ASSERT_THROW(flights.run("x", 1000ms,
                                         [](const SingleFlight::Ticket&) -> SingleFlight::Result {
                                             throw std::runtime_error("db");
                                         }),
                             std::runtime_error);
        for (int i = 0; i < 1000; ++i) flights.run("key" + std::to_string(i), 1000ms, storing(stores));
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), flights.trackedKeys());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SingleFlightTest);
