#include "single_flight.h"

#include <atomic>
#include <condition_variable>
#include <exception>

namespace berth::internal {

// The run whose result the callers that arrive meanwhile share.
struct SingleFlight::Flight {
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;
    Result result;
    std::exception_ptr error;
};

struct SingleFlight::Key {
    std::atomic<std::uint64_t> version{0};  // raised by supersede()
    std::mutex storeMutex;                  // one store or supersede() of the key at a time
    std::shared_ptr<Flight> flight;         // the run to join; null once it is over or superseded (mutex_)
    int runs = 0;                           // calls of run() under way for the key (mutex_)
};

SingleFlight::SingleFlight() = default;
SingleFlight::~SingleFlight() = default;

void SingleFlight::Ticket::storeUnlessSuperseded(const std::function<void()>& store) const {
    std::lock_guard<std::mutex> lock(key_->storeMutex);
    if (key_->version.load() == version_) store();
}

SingleFlight::Result SingleFlight::run(const std::string& key, std::chrono::milliseconds wait,
                                       const Work& work) {
    std::shared_ptr<Key> state;
    std::shared_ptr<Flight> flight;
    Ticket ticket;
    bool leader = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        std::shared_ptr<Key>& slot = keys_[key];
        if (!slot) slot = std::make_shared<Key>();
        state = slot;
        ++state->runs;
        if (!state->flight) {
            state->flight = std::make_shared<Flight>();
            leader = true;
        }
        flight = state->flight;
        // Noted before anything is read: a waiter that gives up works under the version of its
        // arrival, so a write while it waited keeps its value out of the cache too.
        ticket.key_ = state.get();
        ticket.version_ = state->version.load();
    }

    if (!leader) {
        struct Leave {
            SingleFlight& self;
            const std::string& key;
            const std::shared_ptr<Key>& state;
            ~Leave() { self.leave(key, state, nullptr); }
        } leave{*this, key, state};
        std::unique_lock<std::mutex> lock(flight->mutex);
        if (flight->finished.wait_for(lock, wait, [&flight] { return flight->done; })) {
            if (flight->error) std::rethrow_exception(flight->error);
            return flight->result;
        }
        lock.unlock();
        return work(ticket);  // the run is stuck: do not wait on it any longer
    }

    Result result;
    std::exception_ptr error;
    try {
        result = work(ticket);
    } catch (...) {
        error = std::current_exception();
    }
    // Leave before publishing: whoever comes next finds the stored value and starts a run of its own,
    // instead of joining one that is over.
    leave(key, state, flight.get());
    {
        std::lock_guard<std::mutex> lock(flight->mutex);
        flight->done = true;
        flight->result = result;
        flight->error = error;
    }
    flight->finished.notify_all();
    if (error) std::rethrow_exception(error);
    return result;
}

void SingleFlight::leave(const std::string& key, const std::shared_ptr<Key>& state, const Flight* led) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (led != nullptr && state->flight.get() == led) state->flight.reset();
    if (--state->runs > 0) return;
    auto it = keys_.find(key);
    if (it != keys_.end() && it->second == state) keys_.erase(it);
}

void SingleFlight::supersede(const std::string& key) {
    std::shared_ptr<Key> state;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = keys_.find(key);
        if (it == keys_.end()) return;  // no run under way, so none can store an older value
        state = it->second;
        state->version.fetch_add(1);
        state->flight.reset();  // later callers start a run of their own
    }
    std::lock_guard<std::mutex> lock(state->storeMutex);  // a store in progress lands first
}

std::size_t SingleFlight::trackedKeys() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return keys_.size();
}

}  // namespace berth::internal
