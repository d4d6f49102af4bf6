#pragma once
// GET /ready: whether this berthd should get traffic. Every part (a started plugin, each
// database pool, the Redis pool) is asked at once and the answer waits at most `timeoutMs` for
// all of them: a part that has not answered by then is "timeout after N ms". Pings that may block
// run on the part's own thread (started on the first check, joined on destruction), never on the
// caller's, so N pools cost one timeout, not N; a ping still running from an earlier check is not
// started again (a hung server costs one thread, not one per probe). The outcome is kept for
// `cacheMs`, and concurrent callers share one check, so a burst of probes pings each pool once.
//
//     ReadinessCheck ready(500, 1000);
//     ready.add({"db.main", true, true, [&pool](int timeoutMs) { return pool.ping(timeoutMs); }});
//     ReadinessCheck::Outcome o = ready.check();   // o.ready, o.parts: {"db.main", "up"}, …

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "berth/json.h"

namespace berth::server {

class ReadinessCheck {
  public:
    struct Part {
        std::string name;      // "plugin.hello", "db.main", "db.main.replica.10.0.0.2:5432", "redis"
        bool required = true;  // false: failing makes the answer "degraded", still ready
        bool blocking = true;  // false: `ping` answers at once and runs on the checking thread
        /// "" when the part is fine, otherwise why not. Must return within a bounded time of its own
        /// (a blocking one may overrun `timeoutMs`: it is then reported as timed out).
        std::function<std::string(int timeoutMs)> ping;
    };

    struct Outcome {
        bool ready = false;                                      // every required part is up
        bool degraded = false;                                   // some part that is not required is not up
        std::vector<std::pair<std::string, std::string>> parts;  // name, "up" or the reason; in order added
        /// 200: {"status":"ready"|"degraded","parts":{…}}. Not ready: throws ApiError 503
        /// "not ready" whose error names each part that is not up and why.
        Json answer() const;
    };

    static constexpr const char* kUp = "up";

    ReadinessCheck(int timeoutMs, int cacheMs);
    /// Waits for pings still running (each bounded by its own timeouts).
    ~ReadinessCheck();
    ReadinessCheck(const ReadinessCheck&) = delete;
    ReadinessCheck& operator=(const ReadinessCheck&) = delete;

    /// Call before the first check().
    void add(Part part);
    /// Blocks up to about timeoutMs (never longer, whatever the parts do); thread-safe.
    Outcome check();

    int timeoutMs() const noexcept { return timeoutMs_; }

  private:
    class Pinger;
    using Clock = std::chrono::steady_clock;
    Outcome runChecks();

    const int timeoutMs_;
    const int cacheMs_;
    std::vector<Part> parts_;
    std::vector<std::unique_ptr<Pinger>> pingers_;  // one per part; started by the first check

    std::mutex mutex_;
    std::condition_variable checked_;
    bool checking_ = false;
    bool haveOutcome_ = false;
    Clock::time_point checkedAt_{};
    Outcome outcome_;
};

}  // namespace berth::server
