#include "redis_counters.h"

#include <Poco/Redis/Array.h>
#include <Poco/Redis/Type.h>
#include <cppunit/extensions/HelperMacros.h>

#include "redis_env.h"

namespace berth::test {

std::int64_t RedisCounters::Snapshot::calls(const std::string& command) const {
    std::size_t at = text.find("cmdstat_" + command + ":calls=");
    return at == std::string::npos ? 0 : std::stoll(text.substr(text.find('=', at) + 1));
}

RedisCounters::RedisCounters() : client_(rawRedis()) {}

RedisCounters::Snapshot RedisCounters::take() {
    Snapshot s;
    s.text = client_
                 ->execute<Poco::Redis::BulkString>(Poco::Redis::Array() << "INFO"
                                                                         << "stats"
                                                                         << "commandstats")
                 .value();
    std::size_t at = s.text.find("total_reads_processed:");
    CPPUNIT_ASSERT_MESSAGE(s.text, at != std::string::npos);
    s.reads = std::stoll(s.text.substr(s.text.find(':', at) + 1));
    return s;
}

}  // namespace berth::test
