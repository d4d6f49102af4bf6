// berth::gather / gatherAll on the host's FanOutExecutor: results in order, tasks really in
// parallel, the first error rethrown after every task finished, the timeout (504) with queued
// tasks cancelled and running ones left to finish, the request context carried into the tasks, a
// full queue (503), nested gathers on a single thread, and gather without berthd.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "berth/error.h"
#include "berth/fanout.h"
#include "fanout/fanout_executor.h"
#include "installed_fanout.h"
#include "observe/log_context.h"
#include "stopwatch.h"

using berth::ApiError;
using berth::gather;
using berth::gatherAll;
using berth::test::Clock;
using Installed = berth::test::InstalledFanOut;
using berth::test::msSince;
using std::chrono::milliseconds;

namespace {

void sleepMs(int ms) {
    std::this_thread::sleep_for(milliseconds(ms));
}

}  // namespace

class FanOutTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(FanOutTest);
    CPPUNIT_TEST(testResultsInOrderAndInParallel);
    CPPUNIT_TEST(testGatherAll);
    CPPUNIT_TEST(testFirstErrorAfterAllFinished);
    CPPUNIT_TEST(testTimeout);
    CPPUNIT_TEST(testQueuedTasksCancelledAtTimeout);
    CPPUNIT_TEST(testRequestContextCarried);
    CPPUNIT_TEST(testFullQueueIs503);
    CPPUNIT_TEST(testNestedGatherOnOneThread);
    CPPUNIT_TEST(testNestedGatherKeepsItsTimeout);
    CPPUNIT_TEST(testWithoutExecutor);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testResultsInOrderAndInParallel() {
        Installed installed;
        std::atomic<int> sideEffect{0};
        Clock::time_point start = Clock::now();
        auto [number, text, nothing] = gather(
            milliseconds(2000),
            [] {
                sleepMs(300);
                return 1;
            },
            [] {
                sleepMs(100);
                return std::string("two");
            },
            [&sideEffect] {
                sleepMs(200);
                sideEffect = 3;
            });
        long long took = msSince(start);
        CPPUNIT_ASSERT_EQUAL(1, number);
        CPPUNIT_ASSERT_EQUAL(std::string("two"), text);
        CPPUNIT_ASSERT(nothing == std::monostate());
        CPPUNIT_ASSERT_EQUAL(3, sideEffect.load());
        // 300 + 100 + 200 ms one after another; at once it is the longest, 300.
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 290 && took < 500);
    }

    void testGatherAll() {
        Installed installed;
        std::vector<std::function<int()>> tasks;
        for (int i = 0; i < 10; ++i)
            tasks.push_back([i] {
                sleepMs(20 * (10 - i));
                return i * i;
            });
        std::vector<int> squares = gatherAll(milliseconds(2000), tasks);
        CPPUNIT_ASSERT_EQUAL(std::size_t(10), squares.size());
        for (int i = 0; i < 10; ++i) CPPUNIT_ASSERT_EQUAL(i * i, squares[static_cast<std::size_t>(i)]);
        CPPUNIT_ASSERT(gatherAll(milliseconds(10), std::vector<std::function<int()>>()).empty());
    }

    void testFirstErrorAfterAllFinished() {
        Installed installed;
        std::atomic<bool> slowFinished{false};
        Clock::time_point start = Clock::now();
        try {
            gather(
                milliseconds(2000),
                [] {
                    sleepMs(150);
                    throw std::runtime_error("second");
                    return 0;
                },
                [] {
                    sleepMs(20);
                    throw ApiError(404, 40401, "first");
                    return 0;
                },
                [&] {
                    sleepMs(300);
                    slowFinished = true;
                    return 0;
                });
            CPPUNIT_FAIL("gather must rethrow");
        } catch (const ApiError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string("first"), e.message());  // the type survives the rethrow
            CPPUNIT_ASSERT_EQUAL(404, e.httpStatus());
        }
        CPPUNIT_ASSERT(slowFinished.load());
        CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) >= 290);
    }

    void testTimeout() {
        Installed installed;
        auto finished = std::make_shared<std::atomic<bool>>(false);
        Clock::time_point start = Clock::now();
        try {
            gather(
                milliseconds(100), [] { return 1; },
                [finished] {
                    sleepMs(400);
                    *finished = true;
                    return 2;
                });
            CPPUNIT_FAIL("gather must time out");
        } catch (const ApiError& e) {
            CPPUNIT_ASSERT_EQUAL(504, e.httpStatus());
            CPPUNIT_ASSERT_EQUAL(50402, e.code());
            CPPUNIT_ASSERT_EQUAL(std::string("1 parallel task(s) did not finish within 100 ms"), e.message());
            CPPUNIT_ASSERT_EQUAL(std::string(R"({"timeout_ms":100,"unfinished":[1]})"), e.error().dump());
        }
        long long took = msSince(start);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took >= 95 && took < 300);
        CPPUNIT_ASSERT(!finished->load());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), installed.executor().stats().lingering);
        sleepMs(450);  // the lingering task runs to its end; its result is dropped
        CPPUNIT_ASSERT(finished->load());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), installed.executor().stats().lingering);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), installed.executor().stats().timedOut);
    }

    void testQueuedTasksCancelledAtTimeout() {
        Installed installed(1);  // one thread: the second task waits behind the first
        auto secondRan = std::make_shared<std::atomic<bool>>(false);
        try {
            gather(
                milliseconds(100),
                [] {
                    sleepMs(300);
                    return 1;
                },
                [secondRan] {
                    *secondRan = true;
                    return 2;
                });
            CPPUNIT_FAIL("gather must time out");
        } catch (const ApiError& e) {
            CPPUNIT_ASSERT_EQUAL(std::string(R"({"timeout_ms":100,"unfinished":[0,1]})"), e.error().dump());
        }
        sleepMs(400);
        CPPUNIT_ASSERT_MESSAGE("a task cancelled before it started never runs", !secondRan->load());
    }

    void testRequestContextCarried() {
        Installed installed;
        std::string seen;
        {
            berth::server::LogContextScope scope("visits", "req-7");
            berth::server::setLogTraceIds("463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312");
            auto [inTask] = gather(milliseconds(1000), [] {
                const berth::server::LogContext& c = berth::server::currentLogContext();
                return std::string(c.plugin) + " " + std::string(c.requestId) + " " +
                       std::string(c.traceIdView()) + " " + std::string(c.spanIdView());
            });
            seen = inTask;
        }
        CPPUNIT_ASSERT_EQUAL(std::string("visits req-7 463ac35c9f6413ad48485a3953bb6124 a2fb4a1d1a96d312"),
                             seen);
        // The executor's thread does not keep it after the task.
        auto [after] = gather(milliseconds(1000),
                              [] { return std::string(berth::server::currentLogContext().requestId); });
        CPPUNIT_ASSERT_EQUAL(std::string(""), after);
    }

    void testFullQueueIs503() {
        Installed installed(1, 2);
        std::atomic<int> ran{0};
        std::vector<std::function<int()>> tasks(3, [&ran] {
            ++ran;
            return 0;
        });
        try {
            gatherAll(milliseconds(1000), tasks);
            CPPUNIT_FAIL("three tasks do not fit a queue of two");
        } catch (const ApiError& e) {
            CPPUNIT_ASSERT_EQUAL(503, e.httpStatus());
            CPPUNIT_ASSERT_EQUAL(50303, e.code());
        }
        sleepMs(50);
        CPPUNIT_ASSERT_EQUAL(0, ran.load());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), installed.executor().stats().rejected);
        tasks.pop_back();
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), gatherAll(milliseconds(1000), tasks).size());
    }

    // With one executor thread, an outer task waiting for inner tasks that no thread is free to run
    // would wait forever; the outer task runs them itself.
    void testNestedGatherOnOneThread() {
        Installed installed(1);
        Clock::time_point start = Clock::now();
        auto [sum] = gather(milliseconds(2000), [] {
            auto [a, b] = gather(
                milliseconds(1000), [] { return 20; }, [] { return 22; });
            return a + b;
        });
        CPPUNIT_ASSERT_EQUAL(42, sum);
        CPPUNIT_ASSERT(msSince(start) < 500);
    }

    // The caller runs its inner tasks itself, but only until its deadline: one inner task starts,
    // the two not started by 100 ms are cancelled (504), and the thread counts once as busy.
    void testNestedGatherKeepsItsTimeout() {
        Installed installed(1);  // the only executor thread is busy with the outer task
        auto ran = std::make_shared<std::atomic<int>>(0);
        auto busySeen = std::make_shared<std::atomic<std::size_t>>(0);
        auto* executor = &installed.executor();
        auto innerTask = [ran, busySeen, executor] {
            ++*ran;
            *busySeen = executor->stats().busy;
            sleepMs(1000);
            return 0;
        };
        Clock::time_point start = Clock::now();
        auto [status] = gather(milliseconds(5000), [&innerTask] {
            try {
                gather(milliseconds(100), innerTask, innerTask, innerTask);
                return 200;
            } catch (const ApiError& e) {
                CPPUNIT_ASSERT_EQUAL(std::string(R"({"timeout_ms":100,"unfinished":[1,2]})"),
                                     e.error().dump());
                return e.httpStatus();
            }
        });
        long long took = msSince(start);
        CPPUNIT_ASSERT_EQUAL(504, status);
        CPPUNIT_ASSERT_MESSAGE(std::to_string(took) + " ms", took < 1800);
        sleepMs(100);  // the cancelled tasks' queue entries reach the free thread and are dropped
        CPPUNIT_ASSERT_EQUAL(1, ran->load());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), busySeen->load());
        CPPUNIT_ASSERT_EQUAL(std::size_t(0), executor->stats().busy);
    }

    void testWithoutExecutor() {
        berth::setFanOutRunner(nullptr);
        CPPUNIT_ASSERT_THROW(gather(milliseconds(100), [] { return 1; }), std::logic_error);
        Installed installed;
        CPPUNIT_ASSERT_THROW(gather(milliseconds(0), [] { return 1; }), std::invalid_argument);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FanOutTest);
