#pragma once
// Redis' own counters, for tests that prove how many commands or socket reads a call cost: INFO's
// total_reads_processed and calls per command, read on one connection kept open (a new connection
// for each look would add reads of its own).
//
//     RedisCounters redis;
//     RedisCounters::Snapshot before = redis.take();
//     cache.mget({"a", "b"});
//     RedisCounters::Snapshot after = redis.take();
//     CPPUNIT_ASSERT_EQUAL(std::int64_t(1), after.calls("mget") - before.calls("mget"));

#include <Poco/Redis/Client.h>

#include <cstdint>
#include <memory>
#include <string>

namespace berth::test {

class RedisCounters {
  public:
    struct Snapshot {
        std::int64_t reads = 0;  ///< total_reads_processed
        std::string text;        ///< the whole INFO answer
        /// Calls of `command` (lower case, "mget") so far; 0 for a command never called.
        std::int64_t calls(const std::string& command) const;
    };

    /// Connects to the test Redis (rawRedis()).
    RedisCounters();
    /// One INFO, itself one read: subtract 1 from a difference of reads.
    Snapshot take();

  private:
    std::unique_ptr<Poco::Redis::Client> client_;
};

}  // namespace berth::test
