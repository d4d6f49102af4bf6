// The part of berth::CacheModel<T> that does not depend on T (berth/cache_model.h).
#include "berth/cache_model.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "pending_invalidations.h"
#include "rate_limited_warning.h"
#include "single_flight.h"

namespace berth {
inline namespace v1 {
namespace detail {
namespace {

constexpr std::string_view kPlaceholder = "{id}";
constexpr auto kWarnEvery = std::chrono::seconds(10);
constexpr auto kDefaultLoadWait = std::chrono::milliseconds(10000);
constexpr std::size_t kMaxPendingInvalidations = 10000;
constexpr auto kRetryInvalidationsEvery = std::chrono::milliseconds(250);
// DELs per round trip of a retry: a few hundred keep each well inside redis.command_timeout_ms, so a
// long backlog costs the request that finds it several short round trips, not one that times out.
constexpr std::size_t kRetryChunk = 500;

bool hasControl(std::string_view text) {
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) return true;
    }
    return false;
}

}  // namespace

struct CacheModelCore::Impl {
    Cache& cache;
    std::string scheme;
    std::string before, after;  // the scheme around "{id}"
    std::chrono::seconds ttl;
    Codec codec;
    std::atomic<std::chrono::milliseconds::rep> loadWaitMs{kDefaultLoadWait.count()};
    internal::SingleFlight flights;
    internal::PendingInvalidations pending{kMaxPendingInvalidations};
    std::atomic<std::uint64_t> corrupt{0}, dropped{0}, strayLoads{0};
    // Per model object: each kind of trouble at most one line per 10 s.
    internal::RateLimitedWarning corruptWarning{kWarnEvery}, droppedWarning{kWarnEvery},
        strayLoadWarning{kWarnEvery};

    Impl(Cache& c, std::string s, std::chrono::seconds t, Codec cd)
        : cache(c), scheme(std::move(s)), ttl(t), codec(std::move(cd)) {
        std::size_t at = scheme.find(kPlaceholder);
        if (at == std::string::npos || scheme.find(kPlaceholder, at + 1) != std::string::npos)
            throw std::invalid_argument(what() + "the key scheme needs exactly one {id}");
        if (hasControl(scheme))
            throw std::invalid_argument(what() + "the key scheme contains a control character");
        if (ttl.count() <= 0)
            throw std::invalid_argument(what() +
                                        "the TTL must be at least 1 s (an entry without one would never go)");
        before = scheme.substr(0, at);
        after = scheme.substr(at + kPlaceholder.size());
    }

    std::string what() const { return "cache model '" + scheme + "': "; }

    std::string key(std::string_view id) const {
        if (id.empty()) throw std::invalid_argument(what() + "empty id");
        if (hasControl(id)) throw std::invalid_argument(what() + "the id contains a control character");
        std::string k;
        k.reserve(before.size() + id.size() + after.size());
        k.append(before).append(id).append(after);
        return k;
    }

    void corruptValue(const std::string& key, const std::string& why) {
        std::uint64_t n = corrupt.fetch_add(1, std::memory_order_relaxed) + 1;
        CacheModelCore::countCorrupt(cache);
        corruptWarning.occurred(cache.logger(),
                                what() + "the value under '" + key + "' " + why + "; treated as a miss", n);
    }

    // Null for a value that is not JSON, that fromJson refuses, or that is not the value of `id` (a
    // well-formed value of another id would otherwise be answered as this one).
    Boxed decodeText(const std::string& key, std::string_view id, const std::string& text) {
        Json json;
        try {
            json = Json::parse(text);
        } catch (const std::exception& e) {
            corruptValue(key, std::string("is not JSON (") + e.what() + ")");
            return nullptr;
        }
        try {
            Boxed value = codec.decode(json);
            if (!value) {
                corruptValue(key, "was refused by fromJson");
                return nullptr;
            }
            std::string owner = codec.idOf(value);
            if (owner == id) return value;
            corruptValue(key, "is the value of id '" + owner + "', not of '" + std::string(id) + "'");
        } catch (const std::exception& e) {
            corruptValue(key, std::string("was refused by fromJson or idOf (") + e.what() + ")");
        } catch (...) {
            corruptValue(key, "was refused by fromJson or idOf (an exception that is not a std::exception)");
        }
        return nullptr;
    }

    Boxed read(const std::string& key, std::string_view id) {
        if (pending.contains(key)) return nullptr;  // Redis may still hold the value before a write
        std::optional<std::string> text = cache.get(key);
        return text ? decodeText(key, id, *text) : nullptr;
    }

    // Whether a loader's value for `id` may be stored under its key: only when it is that id's, or
    // every later read of the key would find another id's value.
    bool cacheable(const Boxed& value, std::string_view id) {
        std::string owner = codec.idOf(value);
        if (owner == id) return true;
        std::uint64_t n = strayLoads.fetch_add(1, std::memory_order_relaxed) + 1;
        strayLoadWarning.occurred(cache.logger(),
                                  what() + "the loader's value for id '" + std::string(id) + "' is of id '" +
                                      owner + "' (idOf): returned, not cached",
                                  n);
        return false;
    }

    // A write of `keys` (put, putMany, invalidate): `send` sends it and answers, per key, whether
    // Redis ran it. Loads of these keys under way are superseded before it is sent, so that none
    // stores what it read before the write; and again once it is over, since a load that began while
    // the write was on its way may have read the old value, and a caller that comes after the write
    // must not join that load.
    std::vector<bool> write(const std::vector<std::string>& keys,
                            const std::function<std::vector<bool>()>& send) {
        std::uint64_t mark = pending.mark();
        for (const std::string& key : keys) flights.supersede(key);
        std::vector<bool> landed = send();
        landed.resize(keys.size(), false);
        for (std::size_t i = 0; i < keys.size(); ++i) {
            written(keys[i], landed[i], mark);  // first: a load from now on sees a failed one as pending
            flights.supersede(keys[i]);
        }
        return landed;
    }

    // After a write of `key` that began at `mark` (pending.mark() before it was sent): whether Redis
    // now holds the right thing for it.
    void written(const std::string& key, bool ok, std::uint64_t mark) {
        if (ok) {
            pending.delivered(key, mark);  // unless a write of it that began later failed meanwhile
        } else if (!cache.configured()) {
            // No Redis at all: none holds an old value, none would take a DEL; nothing to remember.
        } else if (!pending.add(key)) {
            std::uint64_t n = dropped.fetch_add(1, std::memory_order_relaxed) + 1;
            droppedWarning.occurred(cache.logger(),
                                    what() + "more than " + std::to_string(kMaxPendingInvalidations) +
                                        " invalidations are waiting for Redis; '" + key +
                                        "' may be served stale until its TTL ends",
                                    n);
        }
    }

    // Re-sends the DELs that did not reach Redis, once it answers again (at most every 250 ms), in
    // chunks of kRetryChunk; a chunk that fails ends the retry (Redis stopped answering again).
    void retryPending() {
        if (pending.empty() || !cache.available()) return;
        std::vector<std::pair<std::string, std::uint64_t>> keys = pending.due(kRetryInvalidationsEvery);
        for (std::size_t from = 0; from < keys.size(); from += kRetryChunk) {
            std::size_t to = std::min(keys.size(), from + kRetryChunk);
            CachePipeline batch = cache.pipeline();
            for (std::size_t i = from; i < to; ++i) batch.del(keys[i].first);
            std::vector<CacheResult> results = batch.execute();
            bool all = results.size() == to - from;
            for (std::size_t i = from; i < to; ++i) {
                bool ok = i - from < results.size() && results[i - from].ok;
                if (ok) pending.delivered(keys[i].first, keys[i].second);
                all = all && ok;
            }
            if (!all) return;
        }
    }
};

void CacheModelCore::countCorrupt(Cache& cache) {
    cache.countCorruptValue();
}

CacheModelCore::CacheModelCore(Cache& cache, std::string keyScheme, std::chrono::seconds ttl, Codec codec)
    : impl_(std::make_unique<Impl>(cache, std::move(keyScheme), ttl, std::move(codec))) {}

CacheModelCore::~CacheModelCore() = default;

std::string CacheModelCore::key(std::string_view id) const {
    return impl_->key(id);
}

CacheModelCore::Boxed CacheModelCore::get(std::string_view id) {
    std::string key = impl_->key(id);
    impl_->retryPending();
    return impl_->read(key, id);
}

std::vector<CacheModelCore::Boxed> CacheModelCore::getMany(const std::vector<std::string>& ids) {
    std::vector<Boxed> values(ids.size());
    if (ids.empty()) return values;
    std::vector<std::string> keys;
    keys.reserve(ids.size());
    for (const std::string& id : ids) keys.push_back(impl_->key(id));
    impl_->retryPending();
    std::vector<std::optional<std::string>> texts = impl_->cache.mget(keys);
    for (std::size_t i = 0; i < ids.size() && i < texts.size(); ++i)
        if (texts[i] && !impl_->pending.contains(keys[i]))
            values[i] = impl_->decodeText(keys[i], ids[i], *texts[i]);
    return values;
}

bool CacheModelCore::put(std::string_view id, const Json& json) {
    std::string key = impl_->key(id);
    impl_->retryPending();
    Impl& impl = *impl_;
    return impl.write({key}, [&] { return std::vector<bool>{impl.cache.set(key, json.dump(), impl.ttl)}; })
        .front();
}

bool CacheModelCore::putMany(const std::vector<std::pair<std::string, Json>>& items) {
    if (items.empty()) return true;
    std::vector<std::string> keys;
    keys.reserve(items.size());
    for (const auto& item : items) keys.push_back(impl_->key(item.first));  // all checked before any is sent
    impl_->retryPending();
    Impl& impl = *impl_;
    std::vector<bool> landed = impl.write(keys, [&] {
        CachePipeline batch = impl.cache.pipeline();
        for (std::size_t i = 0; i < items.size(); ++i) batch.set(keys[i], items[i].second.dump(), impl.ttl);
        std::vector<bool> ok;
        for (const CacheResult& result : batch.execute()) ok.push_back(result.ok);
        return ok;
    });
    return std::find(landed.begin(), landed.end(), false) == landed.end();
}

bool CacheModelCore::invalidate(std::string_view id) {
    std::string key = impl_->key(id);
    impl_->retryPending();
    Impl& impl = *impl_;
    return impl.write({key}, [&] { return std::vector<bool>{impl.cache.del(key)}; }).front();
}

CacheModelCore::Boxed CacheModelCore::getOrLoad(std::string_view id, const Load& load) {
    std::string key = impl_->key(id);
    impl_->retryPending();
    Impl& impl = *impl_;
    return impl.flights.run(key, loadWait(), [&](const internal::SingleFlight::Ticket& ticket) -> Boxed {
        if (Boxed hit = impl.read(key, id)) return hit;
        Loaded loaded = load();
        if (!loaded.value) return nullptr;  // not found: nothing to cache
        if (!impl.cacheable(loaded.value, id)) return loaded.value;
        std::string text = loaded.json.dump();
        ticket.storeUnlessSuperseded([&] {
            // Only a stored value clears a pending invalidation; a failed store leaves Redis as it was.
            std::uint64_t mark = impl.pending.mark();
            if (impl.cache.set(key, text, impl.ttl)) impl.pending.delivered(key, mark);
        });
        return loaded.value;
    });
}

Cache& CacheModelCore::cache() const noexcept {
    return impl_->cache;
}

const std::string& CacheModelCore::keyScheme() const noexcept {
    return impl_->scheme;
}

std::chrono::seconds CacheModelCore::ttl() const noexcept {
    return impl_->ttl;
}

std::chrono::milliseconds CacheModelCore::loadWait() const noexcept {
    return std::chrono::milliseconds(impl_->loadWaitMs.load(std::memory_order_relaxed));
}

void CacheModelCore::setLoadWait(std::chrono::milliseconds wait) {
    if (wait.count() <= 0) throw std::invalid_argument(impl_->what() + "the load wait must be positive");
    impl_->loadWaitMs.store(wait.count(), std::memory_order_relaxed);
}

std::uint64_t CacheModelCore::corruptValues() const noexcept {
    return impl_->corrupt.load(std::memory_order_relaxed);
}

}  // namespace detail
}  // namespace v1
}  // namespace berth
