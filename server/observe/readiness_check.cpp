#include "readiness_check.h"

#include <thread>

#include "berth/error.h"

namespace berth::server {

// Runs one part's pings on its own thread, one at a time. A request made while a ping runs is
// served by the next ping after it, so a hung server holds one thread and no queue builds up.
class ReadinessCheck::Pinger {
  public:
    Pinger(const Part& part, int timeoutMs) : part_(part), timeoutMs_(timeoutMs) {}
    ~Pinger() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    /// Asks for a ping that starts from now; returns its number for wait().
    std::uint64_t request() {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
        ++wanted_;
        wake_.notify_all();
        return wanted_;
    }

    /// True, with the result, once ping `number` (or a later one) finished; false at the deadline.
    bool wait(std::uint64_t number, Clock::time_point deadline, std::string& result) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!done_.wait_until(lock, deadline, [&] { return finished_ >= number; })) return false;
        result = result_;
        return true;
    }

  private:
    void run() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stop_ || wanted_ > finished_; });
            if (stop_) return;
            const std::uint64_t serving = wanted_;
            lock.unlock();
            std::string result;
            try {
                result = part_.ping(timeoutMs_);
            } catch (const std::exception& e) {
                result = e.what();
            } catch (...) {
                result = "the check threw a non-standard exception";
            }
            lock.lock();
            result_ = std::move(result);
            finished_ = serving;
            done_.notify_all();
        }
    }

    const Part& part_;
    const int timeoutMs_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::uint64_t wanted_ = 0;
    std::uint64_t finished_ = 0;
    std::string result_;
    bool stop_ = false;
    std::thread thread_;
};

ReadinessCheck::ReadinessCheck(int timeoutMs, int cacheMs) : timeoutMs_(timeoutMs), cacheMs_(cacheMs) {}

ReadinessCheck::~ReadinessCheck() {
    pingers_.clear();  // joins their threads while parts_ (which they read) still exists
}

void ReadinessCheck::add(Part part) {
    parts_.push_back(std::move(part));
}

ReadinessCheck::Outcome ReadinessCheck::check() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (checking_) {
        checked_.wait(lock, [this] { return !checking_; });
        return outcome_;
    }
    if (haveOutcome_ && Clock::now() - checkedAt_ < std::chrono::milliseconds(cacheMs_)) return outcome_;
    checking_ = true;
    lock.unlock();
    Outcome fresh;
    try {
        fresh = runChecks();
    } catch (...) {
        lock.lock();
        checking_ = false;
        checked_.notify_all();
        throw;
    }
    lock.lock();
    outcome_ = fresh;
    haveOutcome_ = true;
    checkedAt_ = Clock::now();
    checking_ = false;
    checked_.notify_all();
    return fresh;
}

// Only one thread at a time runs this (checking_), so pingers_ needs no lock of its own.
ReadinessCheck::Outcome ReadinessCheck::runChecks() {
    if (pingers_.size() != parts_.size()) {
        pingers_.clear();
        for (const Part& part : parts_)
            pingers_.push_back(part.blocking ? std::make_unique<Pinger>(part, timeoutMs_) : nullptr);
    }
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeoutMs_);
    std::vector<std::uint64_t> numbers(parts_.size(), 0);
    for (std::size_t i = 0; i < parts_.size(); ++i)
        if (pingers_[i]) numbers[i] = pingers_[i]->request();

    Outcome out;
    out.ready = true;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
        const Part& part = parts_[i];
        std::string result;
        if (!pingers_[i]) {
            result = part.ping(timeoutMs_);
        } else if (!pingers_[i]->wait(numbers[i], deadline, result)) {
            result = "timeout after " + std::to_string(timeoutMs_) + " ms";
        }
        if (result.empty()) {
            result = kUp;
        } else if (part.required) {
            out.ready = false;
        } else {
            out.degraded = true;
        }
        out.parts.emplace_back(part.name, std::move(result));
    }
    return out;
}

Json ReadinessCheck::Outcome::answer() const {
    Json all = Json::object();
    Json failing = Json::object();
    for (const auto& [name, state] : parts) {
        all[name] = state;
        if (state != kUp) failing[name] = state;
    }
    if (!ready) throw ApiError(503, 503, "not ready", std::move(failing));
    return Json::object({{"status", degraded ? "degraded" : "ready"}, {"parts", std::move(all)}});
}

}  // namespace berth::server
