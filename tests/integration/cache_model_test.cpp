// berth::CacheModel<T> (berth/cache_model.h) against the real local Redis (scripts/redis): every
// call, namespacing between two plugins, TTL expiry, getMany (one MGET) and putMany in one round trip
// (counted by Redis itself), the single flight of getOrLoad (a stampede of 16 threads, a shared exception,
// different keys not waiting on each other, the bounded wait, writes during a load), corrupt and
// foreign values, and Redis stopped, restarted and hung under the model.
#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/Redis/Array.h>
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "berth/cache_model.h"
#include "cache/cache_registry.h"
#include "eventually.h"
#include "redis_counters.h"
#include "redis_env.h"

using berth::Cache;
using berth::Json;
using berth::server::CacheRegistry;
using berth::test::eventually;
using berth::test::rawGet;
using berth::test::rawRedis;
using berth::test::RedisCounters;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Task {
    std::int64_t id = 0;
    std::string title;
};

class TaskModel : public berth::CacheModel<Task> {
  public:
    TaskModel(Cache& cache, std::chrono::seconds ttl = 60s, std::string scheme = "task:{id}")
        : CacheModel(cache, std::move(scheme), ttl) {}

  protected:
    std::string idOf(const Task& t) const override { return std::to_string(t.id); }
    Json toJson(const Task& t) const override { return Json::object({{"id", t.id}, {"title", t.title}}); }
    Task fromJson(const Json& j) const override { return Task{j["id"].asInt(), j["title"].asString()}; }
};

// The warnings a logger writes, for the corrupt-value tests.
class CapturingChannel : public Poco::Channel {
  public:
    void log(const Poco::Message& message) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (message.getPriority() <= Poco::Message::PRIO_WARNING) lines_.push_back(message.getText());
    }
    std::vector<std::string> lines() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

Poco::Int64 rawInteger(Poco::Redis::Array command) {
    return rawRedis()->execute<Poco::Int64>(command);
}

std::int64_t rawTtl(const std::string& fullKey) {
    return rawInteger(Poco::Redis::Array() << "TTL" << fullKey);
}

// Starts `n` threads that run `body(i)` at the same moment; joins them.
template <class F>
void together(int n, F body) {
    std::atomic<bool> go{false};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            ready.fetch_add(1);
            while (!go.load()) std::this_thread::yield();
            body(i);
        });
    while (ready.load() < n) std::this_thread::yield();
    go = true;
    for (std::thread& t : threads) t.join();
}

// getOrLoad of `id` on a thread of its own, with a loader that blocks until finish(): a load under way.
class BlockedLoad {
  public:
    BlockedLoad(TaskModel& tasks, std::int64_t id, std::string title)
        : thread_([this, &tasks, id, title] {
              result_ = tasks.getOrLoad(id, [&] {
                  loading_ = true;
                  while (!released_) std::this_thread::sleep_for(5ms);
                  return std::optional<Task>(Task{id, title});
              });
          }) {}
    ~BlockedLoad() { finish(); }  // also when an assertion throws: a joinable thread would terminate

    /// Returns once the loader runs.
    void waitLoading() const {
        while (!loading_) std::this_thread::sleep_for(5ms);
    }
    /// Lets the loader answer and returns what getOrLoad returned.
    std::optional<Task> finish() {
        released_ = true;
        if (thread_.joinable()) thread_.join();
        return result_;
    }

  private:
    std::atomic<bool> loading_{false}, released_{false};
    std::optional<Task> result_;
    std::thread thread_;  // last: it starts once the members it uses exist
};

// A TaskModel whose fromJson, while `hold` is set, waits when it reads a task titled "old": a read
// of the cache that found the old value and stays under way for as long as the test wants.
class HeldReadTaskModel : public TaskModel {
  public:
    using TaskModel::TaskModel;
    mutable std::atomic<bool> hold{false}, holding{false};

  protected:
    Task fromJson(const Json& j) const override {
        Task t = TaskModel::fromJson(j);
        if (t.title == "old" && hold) {
            holding = true;
            while (hold) std::this_thread::sleep_for(5ms);
        }
        return t;
    }
};

// Redis holds back every write command (CLIENT PAUSE … WRITE; reads go on) until resume(), or 3 s:
// a DEL or SET that stays on its way for as long as the test wants.
class PausedWrites {
  public:
    PausedWrites() { client("PAUSE", "3000", "WRITE"); }
    ~PausedWrites() {
        try {
            resume();
        } catch (...) {
        }
    }
    void resume() {
        if (std::exchange(paused_, false)) client("UNPAUSE");
    }

  private:
    template <class... Words>
    void client(const Words&... words) {
        Poco::Redis::Array command;
        command << "CLIENT";
        (command << ... << words);
        client_->execute<std::string>(command);
    }

    std::unique_ptr<Poco::Redis::Client> client_ = rawRedis();
    bool paused_ = true;
};

}  // namespace

class CacheModelTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CacheModelTest);
    CPPUNIT_TEST(testGetPutInvalidate);
    CPPUNIT_TEST(testGetManyPutManyOneRoundTrip);
    CPPUNIT_TEST(testNamespacing);
    CPPUNIT_TEST(testTtlExpiry);
    CPPUNIT_TEST(testGetOrLoad);
    CPPUNIT_TEST(testStampedeLoadsOnce);
    CPPUNIT_TEST(testLoaderExceptionReachesEveryWaiter);
    CPPUNIT_TEST(testDifferentKeysDoNotWait);
    CPPUNIT_TEST(testHungLoaderWaitIsBounded);
    CPPUNIT_TEST(testWriteDuringLoadWins);
    CPPUNIT_TEST(testWriteDuringGaveUpWaitersLoadWins);
    CPPUNIT_TEST(testCorruptValues);
    CPPUNIT_TEST(testForeignRedisType);
    CPPUNIT_TEST(testValueOfAnotherId);
    CPPUNIT_TEST(testInvalidArguments);
    CPPUNIT_TEST(testNotConfigured);
    CPPUNIT_TEST(testRedisStoppedAndRestarted);
    CPPUNIT_TEST(testFailedInvalidationIsRetried);
    CPPUNIT_TEST(testInvalidationRetryIsChunked);
    CPPUNIT_TEST(testNotConfiguredRemembersNothing);
    CPPUNIT_TEST(testWriteLandingDoesNotClearALaterFailedOne);
    CPPUNIT_TEST(testCallerAfterAWriteDoesNotJoinAnOlderRead);
    CPPUNIT_TEST_SUITE_END();

  private:
    std::string plugin_;
    std::unique_ptr<CacheRegistry> registry_;
    std::string stoppedPid_;

    Cache& cache() { return registry_->forPlugin(plugin_); }
    std::string full(const std::string& key) const { return plugin_ + ":" + key; }

  public:
    void setUp() override {
        plugin_ = berth::test::uniquePlugin();
        registry_ = std::make_unique<CacheRegistry>(berth::test::testCacheSettings(),
                                                    Poco::Logger::get("berth.cache"));
    }

    void tearDown() override {
        registry_.reset();
        if (!stoppedPid_.empty()) std::system(("kill -CONT " + stoppedPid_).c_str());
        stoppedPid_.clear();
        berth::test::redisScript("start >/dev/null");
    }

    void testGetPutInvalidate() {
        TaskModel tasks(cache(), 100s);
        CPPUNIT_ASSERT_EQUAL(std::string("task:7"), tasks.key(7));
        CPPUNIT_ASSERT_EQUAL(std::string("task:ab-c"), tasks.key("ab-c"));
        CPPUNIT_ASSERT(!tasks.get(7).has_value());
        CPPUNIT_ASSERT(tasks.put(Task{7, "seven"}));
        std::optional<Task> hit = tasks.get(7);
        CPPUNIT_ASSERT(hit.has_value());
        CPPUNIT_ASSERT_EQUAL(std::int64_t(7), hit->id);
        CPPUNIT_ASSERT_EQUAL(std::string("seven"), hit->title);
        CPPUNIT_ASSERT_EQUAL(std::string("seven"), tasks.get("7")->title);  // the same key as 7
        // Stored as JSON under "<plugin>:task:7", with the model's TTL.
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":7,"title":"seven"})"), rawGet(full("task:7")).value());
        std::int64_t ttl = rawTtl(full("task:7"));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(ttl), ttl > 90 && ttl <= 100);
        CPPUNIT_ASSERT(tasks.put(Task{7, "seven again"}));
        CPPUNIT_ASSERT_EQUAL(std::string("seven again"), tasks.get(7)->title);
        CPPUNIT_ASSERT(tasks.invalidate(7));
        CPPUNIT_ASSERT(!tasks.get(7).has_value());
        CPPUNIT_ASSERT(!rawGet(full("task:7")).has_value());
        CPPUNIT_ASSERT(tasks.invalidate("7"));  // ran: nothing there is fine
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), tasks.corruptValues());
    }

    // getMany is one MGET and putMany one pipeline of SETs: Redis reads either as it streams in (a few
    // socket reads for a few KB, not one per key), while 100 single gets cost at least 100 reads.
    void testGetManyPutManyOneRoundTrip() {
        TaskModel tasks(cache());
        std::vector<Task> values;
        for (int i = 1; i <= 100; i += 2) values.push_back(Task{i, "task " + std::to_string(i)});
        CPPUNIT_ASSERT(tasks.putMany({}));
        CPPUNIT_ASSERT(tasks.get(1000) == std::nullopt);  // a client is connected before counting

        RedisCounters redis;
        RedisCounters::Snapshot before = redis.take();
        CPPUNIT_ASSERT(tasks.putMany(values));
        RedisCounters::Snapshot after = redis.take();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(50), after.calls("set") - before.calls("set"));
        std::int64_t putReads = after.reads - before.reads - 1;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(putReads) + " reads for 50 SETs",
                               putReads >= 1 && putReads <= 10);

        std::vector<std::int64_t> ids;
        for (int i = 1; i <= 100; ++i) ids.push_back(i);
        before = redis.take();
        std::vector<std::optional<Task>> found = tasks.getMany(ids);
        after = redis.take();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), after.calls("mget") - before.calls("mget"));
        CPPUNIT_ASSERT_EQUAL(std::int64_t(0), after.calls("get") - before.calls("get"));
        std::int64_t getReads = after.reads - before.reads - 1;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(getReads) + " reads for an MGET of 100 keys",
                               getReads >= 1 && getReads <= 10);
        CPPUNIT_ASSERT_EQUAL(std::size_t(100), found.size());
        for (int i = 1; i <= 100; ++i) {
            CPPUNIT_ASSERT_EQUAL_MESSAGE(std::to_string(i), i % 2 == 1, found[i - 1].has_value());
            if (found[i - 1])
                CPPUNIT_ASSERT_EQUAL(std::string("task " + std::to_string(i)), found[i - 1]->title);
        }

        // The control, that the counter tells round trips apart: the same 100 keys one by one.
        before = redis.take();
        for (std::int64_t id : ids) tasks.get(id);
        after = redis.take();
        std::int64_t singleReads = after.reads - before.reads - 1;
        CPPUNIT_ASSERT_MESSAGE(std::to_string(singleReads), singleReads >= 100);

        // String ids, duplicates and order; none at all is no round trip.
        std::vector<std::optional<Task>> some = tasks.getMany(std::vector<std::string>{"3", "2", "3", "99"});
        CPPUNIT_ASSERT_EQUAL(std::size_t(4), some.size());
        CPPUNIT_ASSERT(some[0] && some[0]->id == 3 && !some[1] && some[2] && some[2]->id == 3 && some[3]);
        before = redis.take();
        CPPUNIT_ASSERT(tasks.getMany(std::vector<std::string>{}).empty());
        after = redis.take();
        CPPUNIT_ASSERT_EQUAL(std::int64_t(1), after.reads - before.reads);
        std::int64_t ttl = rawTtl(full("task:51"));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(ttl), ttl > 50 && ttl <= 60);
    }

    // Two plugins with the same scheme and ids see only their own entries.
    void testNamespacing() {
        std::string other = berth::test::uniquePlugin();
        TaskModel mine(cache());
        TaskModel theirs(registry_->forPlugin(other));
        CPPUNIT_ASSERT(mine.put(Task{1, "mine"}));
        CPPUNIT_ASSERT(!theirs.get(1).has_value());
        CPPUNIT_ASSERT(theirs.getOrLoad(1,
                                        [] {
                                            return std::optional<Task>(Task{1, "theirs"});
                                        })
                           .has_value());
        CPPUNIT_ASSERT_EQUAL(std::string("mine"), mine.get(1)->title);
        CPPUNIT_ASSERT_EQUAL(std::string("theirs"), theirs.get(1)->title);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":1,"title":"mine"})"), rawGet(plugin_ + ":task:1").value());
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":1,"title":"theirs"})"), rawGet(other + ":task:1").value());
        CPPUNIT_ASSERT(!rawGet("task:1").has_value());
        CPPUNIT_ASSERT(theirs.invalidate(1));
        CPPUNIT_ASSERT_EQUAL(std::string("mine"), mine.get(1)->title);
        std::vector<std::optional<Task>> many = theirs.getMany(std::vector<std::int64_t>{1});
        CPPUNIT_ASSERT(!many[0].has_value());
    }

    // Entries live for the model's TTL, and not much shorter: 3 s, so that the round trips before the
    // sleep cannot outlast it on a busy machine; the expiry is polled, not slept for.
    void testTtlExpiry() {
        TaskModel tasks(cache(), 3s);
        auto written = Clock::now();
        CPPUNIT_ASSERT(tasks.put(Task{1, "one"}));
        CPPUNIT_ASSERT(tasks.putMany({Task{2, "two"}}));
        int loads = 0;
        auto loader = [&loads] {
            ++loads;
            return std::optional<Task>(Task{3, "three"});
        };
        CPPUNIT_ASSERT(tasks.getOrLoad(3, loader).has_value());
        for (const char* key : {"task:1", "task:2", "task:3"}) {
            std::int64_t ttl = rawTtl(full(key));
            CPPUNIT_ASSERT_MESSAGE(std::string(key) + ": " + std::to_string(ttl), ttl >= 1 && ttl <= 3);
        }
        CPPUNIT_ASSERT(tasks.get(1).has_value());
        tasks.getOrLoad(3, loader);
        CPPUNIT_ASSERT_EQUAL(1, loads);
        CPPUNIT_ASSERT(eventually([&] { return !tasks.get(1) && !tasks.get(2); }, 8000ms));
        CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(written)) + " ms", msSince(written) >= 2500);
        CPPUNIT_ASSERT(eventually([&] {
            tasks.getOrLoad(3, loader);
            return loads > 1;
        }));
    }

    void testGetOrLoad() {
        TaskModel tasks(cache());
        int calls = 0;
        auto found = [&calls] {
            ++calls;
            return std::optional<Task>(Task{5, "loaded"});
        };
        std::optional<Task> first = tasks.getOrLoad(5, found);
        CPPUNIT_ASSERT(first && first->title == "loaded");
        CPPUNIT_ASSERT_EQUAL(1, calls);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":5,"title":"loaded"})"), rawGet(full("task:5")).value());
        CPPUNIT_ASSERT_EQUAL(std::string("loaded"), tasks.getOrLoad("5", found)->title);
        CPPUNIT_ASSERT_EQUAL(1, calls);  // a hit: the loader is not called

        // Not found: answered, not cached, asked again next time.
        int misses = 0;
        auto absent = [&misses] {
            ++misses;
            return std::optional<Task>();
        };
        CPPUNIT_ASSERT(!tasks.getOrLoad(6, absent).has_value());
        CPPUNIT_ASSERT(!tasks.getOrLoad(6, absent).has_value());
        CPPUNIT_ASSERT_EQUAL(2, misses);
        CPPUNIT_ASSERT(!rawGet(full("task:6")).has_value());

        // A throwing loader: the caller gets the exception, nothing is stored, the key is free again.
        CPPUNIT_ASSERT_THROW(
            tasks.getOrLoad(8, []() -> std::optional<Task> { throw std::runtime_error("db"); }),
            std::runtime_error);
        CPPUNIT_ASSERT(!rawGet(full("task:8")).has_value());
        CPPUNIT_ASSERT_EQUAL(std::string("eight"),
                             tasks.getOrLoad(8,
                                             [] {
                                                 return std::optional<Task>(Task{8, "eight"});
                                             })
                                 ->title);
    }

    // 16 threads ask for the same missing key at once; the loader takes 200 ms: it runs once, and
    // every caller gets its value.
    void testStampedeLoadsOnce() {
        TaskModel tasks(cache());
        std::atomic<int> calls{0};
        std::atomic<int> got{0};
        together(16, [&](int) {
            std::optional<Task> t = tasks.getOrLoad(42, [&calls] {
                calls.fetch_add(1);
                std::this_thread::sleep_for(200ms);
                return std::optional<Task>(Task{42, "hot"});
            });
            if (t && t->id == 42 && t->title == "hot") got.fetch_add(1);
        });
        CPPUNIT_ASSERT_EQUAL(1, calls.load());
        CPPUNIT_ASSERT_EQUAL(16, got.load());
        CPPUNIT_ASSERT(rawGet(full("task:42")).has_value());

        // Later callers find it in Redis.
        tasks.getOrLoad(42, [&calls] {
            calls.fetch_add(1);
            return std::optional<Task>();
        });
        CPPUNIT_ASSERT_EQUAL(1, calls.load());
    }

    void testLoaderExceptionReachesEveryWaiter() {
        TaskModel tasks(cache());
        std::atomic<int> calls{0};
        std::atomic<int> caught{0};
        together(8, [&](int) {
            try {
                tasks.getOrLoad(9, [&calls]() -> std::optional<Task> {
                    calls.fetch_add(1);
                    std::this_thread::sleep_for(200ms);
                    throw std::runtime_error("database is down");
                });
            } catch (const std::runtime_error& e) {
                if (std::string(e.what()) == "database is down") caught.fetch_add(1);
            }
        });
        CPPUNIT_ASSERT_EQUAL(1, calls.load());
        CPPUNIT_ASSERT_EQUAL(8, caught.load());
        CPPUNIT_ASSERT(!rawGet(full("task:9")).has_value());
    }

    void testDifferentKeysDoNotWait() {
        TaskModel tasks(cache());
        std::thread slow([&tasks] {
            tasks.getOrLoad(1, [] {
                std::this_thread::sleep_for(1000ms);
                return std::optional<Task>(Task{1, "slow"});
            });
        });
        std::this_thread::sleep_for(100ms);  // key 1 is being loaded now
        auto start = Clock::now();
        std::optional<Task> fast = tasks.getOrLoad(2, [] { return std::optional<Task>(Task{2, "fast"}); });
        long long ms = msSince(start);
        slow.join();
        CPPUNIT_ASSERT(fast && fast->title == "fast");
        CPPUNIT_ASSERT_MESSAGE(std::to_string(ms) + " ms", ms < 600);
    }

    // A loader that hangs holds its waiters for loadWait() only; then they load themselves.
    void testHungLoaderWaitIsBounded() {
        TaskModel tasks(cache());
        CPPUNIT_ASSERT_EQUAL(10000LL, static_cast<long long>(tasks.loadWait().count()));
        tasks.setLoadWait(300ms);
        std::thread hung([&tasks] {
            tasks.getOrLoad(3, [] {
                std::this_thread::sleep_for(2000ms);
                return std::optional<Task>(Task{3, "late"});
            });
        });
        std::this_thread::sleep_for(100ms);
        auto start = Clock::now();
        bool ownLoader = false;
        std::optional<Task> t = tasks.getOrLoad(3, [&ownLoader] {
            ownLoader = true;
            return std::optional<Task>(Task{3, "own"});
        });
        long long ms = msSince(start);
        hung.join();
        CPPUNIT_ASSERT(ownLoader);
        CPPUNIT_ASSERT(t && t->title == "own");
        CPPUNIT_ASSERT_MESSAGE(std::to_string(ms) + " ms", ms >= 250 && ms < 1500);
    }

    // A put or invalidate while a load is under way: the load's older value is not stored over the
    // write, and callers after the write do not join the old load.
    void testWriteDuringLoadWins() {
        TaskModel tasks(cache());
        for (bool viaPut : {true, false}) {
            std::int64_t id = viaPut ? 11 : 12;
            BlockedLoad load(tasks, id, "old");
            load.waitLoading();
            if (viaPut)
                CPPUNIT_ASSERT(tasks.put(Task{id, "new"}));
            else
                CPPUNIT_ASSERT(tasks.invalidate(id));
            auto start = Clock::now();
            std::optional<Task> after = tasks.getOrLoad(id, [&] {
                return std::optional<Task>(Task{id, "fresh"});
            });
            CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms",
                                   msSince(start) < 3000);  // not joined (that waits 10 s)
            CPPUNIT_ASSERT_EQUAL(std::string(viaPut ? "new" : "fresh"), after->title);
            std::optional<Task> old = load.finish();
            CPPUNIT_ASSERT_EQUAL(std::string("old"), old->title);  // its own caller still gets it
            CPPUNIT_ASSERT_EQUAL(std::string(viaPut ? "new" : "fresh"), tasks.get(id)->title);
        }
    }

    // A waiter that gave up on a hung load (loadWait) loads on its own, outside the flight; a put or
    // invalidate while that load runs keeps the waiter's older value out of Redis as well.
    void testWriteDuringGaveUpWaitersLoadWins() {
        TaskModel tasks(cache());
        tasks.setLoadWait(200ms);
        for (bool viaPut : {true, false}) {
            std::int64_t id = viaPut ? 21 : 22;
            std::string key = full("task:" + std::to_string(id));
            BlockedLoad leader(tasks, id, "leader's old");
            leader.waitLoading();
            BlockedLoad waiter(tasks, id, "waiter's old");
            waiter.waitLoading();  // it waited 200 ms, then gave up and loads on its own
            bool written = viaPut ? tasks.put(Task{id, "new"}) : tasks.invalidate(id);  // the PUT committed
            std::optional<Task> waiterGot = waiter.finish();
            std::optional<std::string> afterWaiter = rawGet(key);
            std::optional<Task> leaderGot = leader.finish();
            std::optional<std::string> afterLeader = rawGet(key);

            CPPUNIT_ASSERT(written);
            CPPUNIT_ASSERT(waiterGot && waiterGot->title == "waiter's old");  // its caller still gets it
            CPPUNIT_ASSERT(leaderGot && leaderGot->title == "leader's old");
            std::string expected =
                viaPut ? R"({"id":)" + std::to_string(id) + R"(,"title":"new"})" : "(none)";
            CPPUNIT_ASSERT_EQUAL(expected, afterWaiter.value_or("(none)"));
            CPPUNIT_ASSERT_EQUAL(expected, afterLeader.value_or("(none)"));
        }
    }

    // Not JSON, JSON fromJson refuses: a miss, counted, warned about (once per 10 s), and
    // overwritten by getOrLoad.
    void testCorruptValues() {
        Poco::AutoPtr<CapturingChannel> channel(new CapturingChannel);
        Poco::Logger& logger = Poco::Logger::get("berth." + plugin_);
        logger.setChannel(channel);
        CPPUNIT_ASSERT(&logger == &cache().logger());
        TaskModel tasks(cache());
        auto client = rawRedis();
        client->execute<std::string>(Poco::Redis::Array() << "SET" << full("task:1") << "{not json");
        client->execute<std::string>(Poco::Redis::Array() << "SET" << full("task:2") << R"({"id":"two"})");
        client->execute<std::string>(Poco::Redis::Array() << "SET" << full("task:3") << R"([1,2])");

        CPPUNIT_ASSERT(!tasks.get(1).has_value());
        CPPUNIT_ASSERT(!tasks.get(2).has_value());
        std::vector<std::optional<Task>> many = tasks.getMany(std::vector<std::int64_t>{1, 2, 3});
        CPPUNIT_ASSERT(!many[0] && !many[1] && !many[2]);
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), tasks.corruptValues());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), cache().corruptValues());
        std::vector<std::string> warnings = channel->lines();
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), warnings.size());  // rate-limited
        CPPUNIT_ASSERT_MESSAGE(warnings[0], warnings[0].find("task:1") != std::string::npos &&
                                                warnings[0].find("not JSON") != std::string::npos &&
                                                warnings[0].find("treated as a miss") != std::string::npos);

        int loads = 0;
        std::optional<Task> t = tasks.getOrLoad(2, [&loads] {
            ++loads;
            return std::optional<Task>(Task{2, "repaired"});
        });
        CPPUNIT_ASSERT(t && t->title == "repaired" && loads == 1);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":2,"title":"repaired"})"), rawGet(full("task:2")).value());
        CPPUNIT_ASSERT_EQUAL(std::string("repaired"), tasks.get(2)->title);

        std::string metrics;
        registry_->renderMetrics(metrics);
        CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find("berth_redis_corrupt_total{plugin=\"" + plugin_ +
                                                     "\"} 6\n") != std::string::npos);
        logger.setChannel(Poco::Logger::root().getChannel());
    }

    // Another Redis type under the key (a hash): Redis refuses the GET and MGET answers nil for it —
    // a miss either way — and getOrLoad's SET replaces it.
    void testForeignRedisType() {
        TaskModel tasks(cache());
        rawInteger(Poco::Redis::Array() << "HSET" << full("task:4") << "f"
                                        << "v");
        CPPUNIT_ASSERT(!tasks.get(4).has_value());
        CPPUNIT_ASSERT(!tasks.getMany(std::vector<std::int64_t>{4})[0].has_value());
        std::optional<Task> t = tasks.getOrLoad(4, [] { return std::optional<Task>(Task{4, "mine now"}); });
        CPPUNIT_ASSERT(t && t->title == "mine now");
        CPPUNIT_ASSERT_EQUAL(std::string("mine now"), tasks.get(4)->title);
        CPPUNIT_ASSERT(registry_->stats().errors >= 2);
    }

    // Well-formed JSON of another id under a key ({"id":8,...} under task:7: written by hand, or by an
    // older scheme): not task 7 — a miss, counted, and replaced by getOrLoad. A loader that answers a
    // value of another id is believed for this call, but it is not stored under this id's key.
    void testValueOfAnotherId() {
        TaskModel tasks(cache());
        auto client = rawRedis();
        client->execute<std::string>(Poco::Redis::Array()
                                     << "SET" << full("task:7") << R"({"id":8,"title":"eight"})");
        CPPUNIT_ASSERT(!tasks.get(7).has_value());
        CPPUNIT_ASSERT(!tasks.getMany(std::vector<std::int64_t>{7})[0].has_value());
        CPPUNIT_ASSERT(!tasks.getMany(std::vector<std::string>{"7", "8"})[0].has_value());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), tasks.corruptValues());
        int loads = 0;
        std::optional<Task> t = tasks.getOrLoad(7, [&loads] {
            ++loads;
            return std::optional<Task>(Task{7, "seven"});
        });
        CPPUNIT_ASSERT(t && t->id == 7 && t->title == "seven" && loads == 1);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":7,"title":"seven"})"), rawGet(full("task:7")).value());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), tasks.corruptValues());  // getOrLoad's read of it

        std::optional<Task> other = tasks.getOrLoad(9, [] { return std::optional<Task>(Task{10, "ten"}); });
        CPPUNIT_ASSERT(other && other->id == 10);
        CPPUNIT_ASSERT(!rawGet(full("task:9")).has_value());
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), tasks.corruptValues());
    }

    void testInvalidArguments() {
        CPPUNIT_ASSERT_THROW(TaskModel(cache(), 60s, "task"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(TaskModel(cache(), 60s, "{id}:{id}"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(TaskModel(cache(), 60s, "task\n{id}"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(TaskModel(cache(), 0s), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(TaskModel(cache(), -5s), std::invalid_argument);
        TaskModel tasks(cache(), 60s, "{id}");
        CPPUNIT_ASSERT_EQUAL(std::string("x"), tasks.key("x"));
        CPPUNIT_ASSERT_THROW(tasks.get(""), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(tasks.invalidate("a\nb"), std::invalid_argument);
        CPPUNIT_ASSERT_THROW(tasks.setLoadWait(0ms), std::invalid_argument);
    }

    void testNotConfigured() {
        CacheRegistry none(berth::server::CacheSettings{}, Poco::Logger::get("berth.cache"));
        TaskModel tasks(none.forPlugin("plain"));
        int calls = 0;
        auto loader = [&calls] {
            ++calls;
            return std::optional<Task>(Task{1, "db"});
        };
        CPPUNIT_ASSERT_EQUAL(std::string("db"), tasks.getOrLoad(1, loader)->title);
        CPPUNIT_ASSERT_EQUAL(std::string("db"), tasks.getOrLoad(1, loader)->title);
        CPPUNIT_ASSERT_EQUAL(2, calls);
        CPPUNIT_ASSERT(!tasks.put(Task{1, "x"}));
        CPPUNIT_ASSERT(!tasks.putMany({Task{1, "x"}}));
        CPPUNIT_ASSERT(!tasks.get(1).has_value());
        CPPUNIT_ASSERT(!tasks.invalidate(1));
        CPPUNIT_ASSERT(!tasks.getMany(std::vector<std::int64_t>{1, 2})[1].has_value());
    }

    // Redis stopped: every call answers at once (misses, skipped writes) and getOrLoad returns the
    // loader's value — still one loader call for a stampede; once Redis is back caching resumes.
    void testRedisStoppedAndRestarted() {
        TaskModel tasks(cache());
        CPPUNIT_ASSERT(tasks.put(Task{1, "before"}));
        berth::test::redisScript("stop >/dev/null");
        auto start = Clock::now();
        for (int i = 0; i < 50; ++i) {
            std::optional<Task> t = tasks.getOrLoad(1, [] {
                return std::optional<Task>(Task{1, "from db"});
            });
            CPPUNIT_ASSERT(t && t->title == "from db");
            CPPUNIT_ASSERT(!tasks.get(1).has_value());
            CPPUNIT_ASSERT(!tasks.put(Task{1, "x"}));
            CPPUNIT_ASSERT(!tasks.putMany({Task{2, "y"}}));
            CPPUNIT_ASSERT(!tasks.getMany(std::vector<std::int64_t>{1, 2})[0].has_value());
            CPPUNIT_ASSERT(!tasks.invalidate(2));
        }
        CPPUNIT_ASSERT_MESSAGE(std::to_string(msSince(start)) + " ms", msSince(start) < 3000);
        std::atomic<int> calls{0};
        together(8, [&](int) {
            tasks.getOrLoad(7, [&calls] {
                calls.fetch_add(1);
                std::this_thread::sleep_for(200ms);
                return std::optional<Task>(Task{7, "db"});
            });
        });
        CPPUNIT_ASSERT_EQUAL(1, calls.load());
        CPPUNIT_ASSERT(registry_->stats().skipped > 0);

        berth::test::redisScript("start >/dev/null");
        auto after = [] { return std::optional<Task>(Task{1, "after"}); };
        CPPUNIT_ASSERT(eventually([&] {
            tasks.getOrLoad(1, after);
            return rawGet(full("task:1")).has_value();
        }));
        int loads = 0;
        std::optional<Task> cached = tasks.getOrLoad(1, [&loads] {
            ++loads;
            return std::optional<Task>(Task{1, "again"});
        });
        CPPUNIT_ASSERT(cached && cached->title == "after" && loads == 0);
    }

    // DELs that never reach a Redis which still holds the old values (hung, then back with its data;
    // the DELs are skipped while the breaker is open): the model does not serve those values meanwhile,
    // and its first call once Redis answers sends both DELs again. Both keys' invalidations fail in one
    // SIGSTOP window and only plain cache calls run until both old values are seen still there, so
    // nothing but the model's retry can have removed them.
    void testFailedInvalidationIsRetried() {
        useCommandTimeout(300);
        TaskModel tasks(cache());
        CPPUNIT_ASSERT(eventually([&] { return tasks.put(Task{1, "old"}) && tasks.put(Task{2, "old"}); }));
        stopRedis();
        CPPUNIT_ASSERT(!cache().get("probe").has_value());  // times out: Redis counts as down for 1.5 s
        CPPUNIT_ASSERT(!cache().available());
        CPPUNIT_ASSERT(!tasks.invalidate(1));  // skipped: never sent
        CPPUNIT_ASSERT(!tasks.invalidate(2));
        continueRedis();
        CPPUNIT_ASSERT(eventually([&] { return cache().get("probe"), cache().available(); }));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":1,"title":"old"})"),
                             rawGet(full("task:1")).value_or("(none)"));
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":2,"title":"old"})"),
                             rawGet(full("task:2")).value_or("(none)"));

        CPPUNIT_ASSERT(!tasks.get(1).has_value());  // not the stale value
        CPPUNIT_ASSERT(!rawGet(full("task:1")).has_value());
        CPPUNIT_ASSERT(!rawGet(full("task:2")).has_value());
        int loads = 0;
        std::optional<Task> t = tasks.getOrLoad(2, [&loads] {
            ++loads;
            return std::optional<Task>(Task{2, "new"});
        });
        CPPUNIT_ASSERT(t && t->title == "new" && loads == 1);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":2,"title":"new"})"), rawGet(full("task:2")).value_or(""));
    }

    // A long backlog of failed invalidations goes out in chunks of 500 DELs, and a chunk that fails
    // ends the retry. Here Redis hangs again during the first chunk: only that chunk's DELs reach it
    // (on SIGCONT, from the abandoned connection), the other 700 stay pending and go out later.
    void testInvalidationRetryIsChunked() {
        useCommandTimeout(300);
        TaskModel tasks(cache());
        std::vector<Task> values;
        for (int id = 1; id <= 1200; ++id) values.push_back(Task{id, "old"});
        CPPUNIT_ASSERT(eventually([&] { return tasks.putMany(values); }));
        auto present = [&] {
            Poco::Redis::Array exists;
            exists << "EXISTS";
            for (const Task& t : values) exists << full("task:" + std::to_string(t.id));
            return static_cast<long long>(rawInteger(exists));
        };
        CPPUNIT_ASSERT_EQUAL(1200LL, present());
        stopRedis();
        CPPUNIT_ASSERT(!cache().get("probe").has_value());  // times out: the breaker opens
        for (const Task& t : values) tasks.invalidate(t.id);
        continueRedis();
        CPPUNIT_ASSERT(eventually([&] { return cache().get("probe"), cache().available(); }));
        CPPUNIT_ASSERT_EQUAL(1200LL, present());  // every DEL was skipped

        stopRedis();
        std::uint64_t skipped = registry_->stats().skipped;
        CPPUNIT_ASSERT(!tasks.get(1).has_value());                      // its retry's first chunk times out
        CPPUNIT_ASSERT_EQUAL(skipped + 1, registry_->stats().skipped);  // that chunk; no other was tried
        continueRedis();
        CPPUNIT_ASSERT(eventually([&] { return cache().get("probe"), cache().available(); }));
        long long left = 0;
        eventually([&] { return (left = present()) <= 700; }, 3000ms);
        CPPUNIT_ASSERT_EQUAL(700LL, left);

        CPPUNIT_ASSERT(eventually([&] {
            tasks.get(1);
            return present() == 0;
        }));
    }

    // Without Redis configured no invalidation can fail for a while and no Redis holds an old value:
    // the model remembers none (no pile of pending keys, no warning that they exceed the limit).
    void testNotConfiguredRemembersNothing() {
        CacheRegistry none(berth::server::CacheSettings{}, Poco::Logger::get("berth.cache"));
        Cache& plain = none.forPlugin("plain_" + plugin_);
        Poco::AutoPtr<CapturingChannel> channel(new CapturingChannel);
        plain.logger().setChannel(channel);
        TaskModel tasks(plain);
        for (int id = 1; id <= 10001; ++id) CPPUNIT_ASSERT(!tasks.invalidate(id));
        CPPUNIT_ASSERT(!tasks.putMany({Task{10002, "x"}}));
        plain.logger().setChannel(Poco::Logger::root().getChannel());
        std::vector<std::string> warnings = channel->lines();
        CPPUNIT_ASSERT_MESSAGE(warnings.empty() ? "" : warnings[0], warnings.empty());
    }

    // Thread 1's put sends its SET (Redis holds writes back: CLIENT PAUSE WRITE); thread 2's invalidate
    // of the same key comes after it and finds no free client (a pool of one): skipped, remembered.
    // Thread 1's SET then lands: Redis holds its value, older than what thread 2 invalidated. That
    // success must not forget thread 2's failed invalidation: the model does not serve the value, and
    // its next call deletes it.
    void testWriteLandingDoesNotClearALaterFailedOne() {
        useSlowWrites(1);
        TaskModel tasks(cache());
        CPPUNIT_ASSERT(tasks.put(Task{1, "older"}));  // connects the pool's only client
        PausedWrites paused;
        std::atomic<bool> firstLanded{false};
        std::thread first([&] { firstLanded = tasks.put(Task{1, "first"}); });
        bool sent = eventually([&] { return registry_->stats().inUse == 1; }, 2000ms);
        bool second = tasks.invalidate(1);
        paused.resume();
        first.join();
        CPPUNIT_ASSERT_MESSAGE("the first put did not hold the pool's client", sent);
        CPPUNIT_ASSERT(firstLanded);
        CPPUNIT_ASSERT(!second);
        CPPUNIT_ASSERT_EQUAL(std::string(R"({"id":1,"title":"first"})"), rawGet(full("task:1")).value_or(""));

        CPPUNIT_ASSERT(!tasks.get(1).has_value());
        CPPUNIT_ASSERT(!rawGet(full("task:1")).has_value());
    }

    // An invalidate's DEL is on its way (Redis holds writes back) when a getOrLoad begins a read that
    // finds the old value (and stays under way: HeldReadTaskModel). Once the invalidate returned, a
    // getOrLoad of the key must start a read of its own (a miss, then its loader) instead of joining
    // that read and answering the old value.
    void testCallerAfterAWriteDoesNotJoinAnOlderRead() {
        useSlowWrites(4);
        HeldReadTaskModel tasks(cache());
        CPPUNIT_ASSERT(tasks.put(Task{3, "old"}));
        PausedWrites paused;
        std::atomic<bool> invalidated{false};
        std::thread writer([&] { invalidated = tasks.invalidate(3); });
        bool sent = eventually([&] { return registry_->stats().inUse == 1; }, 2000ms);
        tasks.hold = true;
        std::optional<Task> early, late;
        std::thread reader([&] {
            early = tasks.getOrLoad(3, [] { return std::optional<Task>(Task{3, "db"}); });
        });
        bool reading = eventually([&] { return tasks.holding.load(); }, 2000ms);
        paused.resume();
        writer.join();

        std::atomic<bool> answered{false};
        std::thread after([&] {
            late = tasks.getOrLoad(3, [] { return std::optional<Task>(Task{3, "new"}); });
            answered = true;
        });
        bool ownRead = eventually([&] { return answered.load(); }, 3000ms);
        tasks.hold = false;
        reader.join();
        after.join();
        CPPUNIT_ASSERT_MESSAGE("the invalidate did not hold a client", sent);
        CPPUNIT_ASSERT_MESSAGE("no read found the old value while the DEL was on its way", reading);
        CPPUNIT_ASSERT(invalidated);
        CPPUNIT_ASSERT(early && early->title == "old");  // its caller came before the invalidate returned
        CPPUNIT_ASSERT_MESSAGE("the caller after the invalidate joined the older read", ownRead);
        CPPUNIT_ASSERT_EQUAL(std::string("new"), late ? late->title : std::string("(none)"));
    }

  private:
    // A registry whose Redis calls give up after `ms` (a hung Redis then opens the breaker quickly),
    // and whose breaker, once open, skips every call for 1.5 s: the tests' calls meant to be skipped
    // are, however slow the machine (the default 250 ms is tight for 1200 of them).
    void useCommandTimeout(int ms) {
        berth::server::CacheSettings settings = berth::test::testCacheSettings();
        settings.commandTimeoutMs = ms;
        settings.backoffInitialMs = 1500;
        registry_ = std::make_unique<CacheRegistry>(settings, Poco::Logger::get("berth.cache"));
    }

    // A registry of `clients` whose calls wait up to 5 s for an answer (outlasting PausedWrites) and
    // 50 ms for a free client.
    void useSlowWrites(int clients) {
        berth::server::CacheSettings settings = berth::test::testCacheSettings();
        settings.poolSize = clients;
        settings.poolWaitMs = 50;
        settings.commandTimeoutMs = 5000;
        registry_ = std::make_unique<CacheRegistry>(settings, Poco::Logger::get("berth.cache"));
    }

    void stopRedis() {
        stoppedPid_ = berth::test::redisPid();
        CPPUNIT_ASSERT_EQUAL(0, std::system(("kill -STOP " + stoppedPid_).c_str()));
    }

    void continueRedis() {
        CPPUNIT_ASSERT_EQUAL(0, std::system(("kill -CONT " + stoppedPid_).c_str()));
        stoppedPid_.clear();
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CacheModelTest);
