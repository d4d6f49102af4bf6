#pragma once
/// berth/cache_model.h — a typed cache over ctx.cache() (berth/cache.h): one class per kind of
/// object, with a key scheme, a TTL and JSON (de)serialisation, and cache-aside reads in which only
/// one caller per key runs the loader. The C++ form of the old RCModel base class.
///
///     struct Task { std::int64_t id; std::string title; };
///
///     class TaskCache : public berth::CacheModel<Task> {
///       public:
///         explicit TaskCache(berth::Cache& cache)
///             : CacheModel(cache, "task:{id}", std::chrono::minutes(5)) {}   // Redis "<plugin>:task:7"
///       protected:
///         std::string idOf(const Task& t) const override { return std::to_string(t.id); }
///         berth::Json toJson(const Task& t) const override {
///             return berth::Json::object({{"id", t.id}, {"title", t.title}});
///         }
///         Task fromJson(const berth::Json& j) const override {    // may throw: a miss
///             return Task{j["id"].asInt(), j["title"].asString()};
///         }
///     };
///
///     TaskCache tasks(ctx.cache());
///     std::optional<Task> t = tasks.getOrLoad(7, [&]() -> std::optional<Task> { return loadTask(7); });
///     tasks.invalidate(7);                                         // after the UPDATE committed
///
/// Failure contract, as for berth/cache.h: Redis down, slow or unconfigured never throws. Reads miss,
/// writes are skipped (false), and getOrLoad calls the loader and returns its result; caching resumes
/// by itself when Redis answers again. An invalidate (or put) that could not reach a configured Redis
/// is remembered: that key reads as a miss, and its DEL is sent again once Redis answers, so a Redis
/// that kept its data through the outage does not serve the old value (a write of the key that began
/// earlier and lands later does not clear it; without Redis configured nothing is remembered). A value
/// under a model's key that is not JSON, that fromJson refuses (throws), or whose idOf is not the id
/// asked for (another id's value) is corrupt or foreign: a miss, counted (berth_redis_corrupt_total in
/// /metrics) and warned about on the plugin's logger — at most once per 10 s for each model object;
/// getOrLoad overwrites it with what the loader returns. A loader's value whose idOf is not the id
/// asked for is returned but not cached. Only programming errors throw std::invalid_argument: a scheme
/// without exactly one "{id}", a TTL <= 0, an empty id or one with control characters.
///
/// Single flight: concurrent getOrLoad calls for the same key on one model object share one Redis
/// read and at most one loader call; the others wait for its result (or get the loader's exception
/// rethrown). Different keys never wait on each other. A waiter gives up waiting after loadWait()
/// (10 s unless setLoadWait() says otherwise) and runs the loader itself, so a loader that hangs
/// holds up its waiters no longer than that. put/putMany/invalidate on a key that is being loaded
/// keep every load of it under way (the shared one, and those of waiters that gave up) from writing
/// its (possibly older) value to Redis, and getOrLoad calls after the write returned join no load
/// that began before it returned (one that began while it was on its way may have read the old
/// value). Between processes (several berthd) nothing is shared: a load that read the database
/// before another process's write may store the old value after that process invalidated it, and it
/// stays until the TTL ends — keep TTLs short where that matters.
///
/// Thread-safe. T must be copyable (waiters get copies of the loaded value).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/cache.h"
#include "berth/json.h"

namespace berth {
inline namespace v1 {

namespace detail {

/// What CacheModel<T> does that does not depend on T, compiled once in libberth-sdk: keys from the
/// scheme, Redis reads and writes, JSON text, the single-flight table and the corrupt-value
/// warning. Values cross it type-erased (Boxed points to a T). Use CacheModel<T>, not this.
class CacheModelCore {
  public:
    using Boxed = std::shared_ptr<const void>;
    /// The model's T, type-erased.
    struct Codec {
        /// Makes a T from a cached value; may throw (then the value is corrupt).
        std::function<Boxed(const Json&)> decode;
        /// The id a T belongs to (CacheModel::idOf of *value).
        std::function<std::string(const Boxed& value)> idOf;
    };
    /// What a loader produced: value null means "not found" (nothing is cached).
    struct Loaded {
        Boxed value;
        Json json;
    };
    using Load = std::function<Loaded()>;

    CacheModelCore(Cache& cache, std::string keyScheme, std::chrono::seconds ttl, Codec codec);
    ~CacheModelCore();
    CacheModelCore(const CacheModelCore&) = delete;
    CacheModelCore& operator=(const CacheModelCore&) = delete;

    /// The key for `id` ("visit_task:{id}" and "7" → "visit_task:7"), inside the plugin's namespace.
    std::string key(std::string_view id) const;
    Boxed get(std::string_view id);
    std::vector<Boxed> getMany(const std::vector<std::string>& ids);
    bool put(std::string_view id, const Json& json);
    bool putMany(const std::vector<std::pair<std::string, Json>>& items);
    bool invalidate(std::string_view id);
    Boxed getOrLoad(std::string_view id, const Load& load);

    Cache& cache() const noexcept;
    const std::string& keyScheme() const noexcept;
    std::chrono::seconds ttl() const noexcept;
    std::chrono::milliseconds loadWait() const noexcept;
    void setLoadWait(std::chrono::milliseconds wait);
    /// Corrupt or foreign values this model met (the plugin-wide count is Cache::corruptValues()).
    std::uint64_t corruptValues() const noexcept;

  private:
    struct Impl;
    // Cache::countCorruptValue is private to the host and this class (a friend of Cache).
    static void countCorrupt(Cache& cache);

    std::unique_ptr<Impl> impl_;
};

}  // namespace detail

/// A typed cache: derive from it and say how a T is named (idOf) and written (toJson, fromJson).
/// Ids are strings; the std::int64_t overloads are for integer ids (`tasks.get(42)`).
template <class T>
class CacheModel {
  public:
    /// `keyScheme`: the key with one "{id}" in it, e.g. "visit_task:{id}" (Redis stores
    /// "<plugin>:visit_task:42"); `ttl` > 0: how long an entry lives.
    CacheModel(Cache& cache, std::string keyScheme, std::chrono::seconds ttl)
        : core_(cache, std::move(keyScheme), ttl, codec()) {}
    virtual ~CacheModel() = default;
    CacheModel(const CacheModel&) = delete;
    CacheModel& operator=(const CacheModel&) = delete;

    /// The cached value; std::nullopt for a miss, Redis unavailable or a corrupt value.
    std::optional<T> get(std::string_view id) { return unbox(core_.get(id)); }
    std::optional<T> get(std::int64_t id) { return get(std::to_string(id)); }

    /// Stores `value` under the key of idOf(value), with the TTL. False when skipped (Redis down).
    bool put(const T& value) { return core_.put(idOf(value), toJson(value)); }

    /// Stores every value in one round trip. True when all were stored (also for none).
    bool putMany(const std::vector<T>& values) {
        std::vector<std::pair<std::string, Json>> items;
        items.reserve(values.size());
        for (const T& value : values) items.emplace_back(idOf(value), toJson(value));
        return core_.putMany(items);
    }

    /// Removes the entry. True when Redis ran the DEL (whether or not there was one).
    bool invalidate(std::string_view id) { return core_.invalidate(id); }
    bool invalidate(std::int64_t id) { return invalidate(std::to_string(id)); }

    /// Cache-aside: the cached value, or else the loader's, stored for the next caller. The loader
    /// answers std::nullopt for "not found" (returned, not cached); its exceptions reach the caller
    /// (and every caller that waited for it). With Redis unavailable it is simply called. A loaded
    /// value whose idOf is not `id` is returned but not cached (it would be read as another id's).
    std::optional<T> getOrLoad(std::string_view id, const std::function<std::optional<T>()>& loader) {
        return unbox(core_.getOrLoad(id, [this, &loader]() -> detail::CacheModelCore::Loaded {
            std::optional<T> loaded = loader();
            if (!loaded) return {};
            Json json = toJson(*loaded);
            return {std::make_shared<const T>(std::move(*loaded)), std::move(json)};
        }));
    }
    std::optional<T> getOrLoad(std::int64_t id, const std::function<std::optional<T>()>& loader) {
        return getOrLoad(std::to_string(id), loader);
    }

    /// One MGET for all of `ids`; the answers in the same order (std::nullopt per miss).
    std::vector<std::optional<T>> getMany(const std::vector<std::string>& ids) {
        std::vector<detail::CacheModelCore::Boxed> boxes = core_.getMany(ids);
        std::vector<std::optional<T>> values;
        values.reserve(boxes.size());
        for (const detail::CacheModelCore::Boxed& box : boxes) values.push_back(unbox(box));
        return values;
    }
    std::vector<std::optional<T>> getMany(const std::vector<std::int64_t>& ids) {
        std::vector<std::string> text;
        text.reserve(ids.size());
        for (std::int64_t id : ids) text.push_back(std::to_string(id));
        return getMany(text);
    }

    /// The Redis key of `id` within the plugin's namespace ("visit_task:42").
    std::string key(std::string_view id) const { return core_.key(id); }
    std::string key(std::int64_t id) const { return core_.key(std::to_string(id)); }
    std::chrono::seconds ttl() const noexcept { return core_.ttl(); }
    /// How long a getOrLoad waits for another caller's load of the same key before it loads itself.
    std::chrono::milliseconds loadWait() const noexcept { return core_.loadWait(); }
    /// Throws std::invalid_argument for a wait <= 0.
    void setLoadWait(std::chrono::milliseconds wait) { core_.setLoadWait(wait); }
    /// Corrupt or foreign values this model met since it was made.
    std::uint64_t corruptValues() const noexcept { return core_.corruptValues(); }

  protected:
    /// The id a value is stored under (put, putMany), and must have when read back under an id.
    virtual std::string idOf(const T& value) const = 0;
    virtual Json toJson(const T& value) const = 0;
    /// May throw (JsonError from a typed read, or anything else): the cached value is then treated
    /// as corrupt — a miss.
    virtual T fromJson(const Json& json) const = 0;

  private:
    // The core calls these only after construction, so the virtuals are the derived class's.
    detail::CacheModelCore::Codec codec() const {
        return {[this](const Json& json) -> detail::CacheModelCore::Boxed {
                    return std::make_shared<const T>(fromJson(json));
                },
                [this](const detail::CacheModelCore::Boxed& value) {
                    return idOf(*static_cast<const T*>(value.get()));
                }};
    }
    static std::optional<T> unbox(const detail::CacheModelCore::Boxed& box) {
        if (!box) return std::nullopt;
        return *static_cast<const T*>(box.get());
    }

    detail::CacheModelCore core_;
};

}  // namespace v1
}  // namespace berth
