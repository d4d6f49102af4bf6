#include "host_database.h"

#include <Poco/Logger.h>

#include "berth/error.h"
#include "berth/request.h"
#include "host_session.h"

namespace berth::server {
namespace {

constexpr std::int64_t kReplicaRetryMs = 5000;   // a replica that failed is skipped this long
constexpr std::int64_t kWarningEveryMs = 10000;  // at most one warning per replica (and outage) this often

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

PoolSettings poolSettings(const DatabaseSettings& db, const DatabaseEndpoint& endpoint,
                          const std::string& role) {
    PoolSettings p;
    p.label = "database '" + db.name + "' " + role + " " + endpoint.describe();
    p.connectionString = db.connectionString(endpoint);
    p.min = db.poolMin;
    p.max = db.poolMax;
    p.waitMs = db.poolWaitMs;
    p.statementTimeoutMs = db.statementTimeoutMs;
    p.connectTimeoutMs = db.connectTimeoutS * 1000;
    p.schema = db.schema;
    return p;
}

// True once per `everyMs` for the clock in `last` (racing callers: one wins).
bool due(std::atomic<std::int64_t>& last, std::int64_t everyMs) {
    std::int64_t now = nowMs();
    std::int64_t before = last.load();
    return (before == 0 || now - before >= everyMs) && last.compare_exchange_strong(before, now);
}

}  // namespace

HostDatabase::HostDatabase(DatabaseSettings settings, Poco::Logger& logger)
    : settings_(std::move(settings)), logger_(logger) {
    if (!settings_.unusable.empty()) return;
    primary_ = std::make_unique<ConnectionPool>(poolSettings(settings_, settings_.primary, "primary"));
    for (const DatabaseEndpoint& endpoint : settings_.replicas) {
        auto replica = std::make_unique<Replica>();
        replica->pool = std::make_unique<ConnectionPool>(poolSettings(settings_, endpoint, "replica"));
        replicas_.push_back(std::move(replica));
    }
}

HostDatabase::~HostDatabase() = default;

void HostDatabase::unavailable(const std::string& requestId, const std::string& reason, bool poolTimeout) {
    if (due(lastOutageLogMs_, kWarningEveryMs))
        logger_.warning("%s (request %s); answering 503 database unavailable", reason, requestId);
    throw ApiError(
        503, 503, "database unavailable",
        "database '" + settings_.name + "': " +
            (poolTimeout ? std::string("no free connection in time") : std::string("cannot reach it")));
}

void HostDatabase::connectionLost(ConnectionPool& pool, const std::string& requestId,
                                  const std::string& reason) {
    pool.countError();
    for (auto& replica : replicas_)
        if (replica->pool.get() == &pool) replicaDown(*replica, requestId, reason);
    logger_.debug("%s: connection lost (%s), request %s", pool.settings().label, reason, requestId);
}

void HostDatabase::replicaDown(Replica& replica, const std::string& requestId, const std::string& reason) {
    replica.downUntilMs.store(nowMs() + kReplicaRetryMs);
    if (due(replica.lastWarningMs, kWarningEveryMs)) {
        std::uint64_t suppressed = replica.suppressed.exchange(0);
        logger_.warning(
            "%s is unavailable (%s; request %s): reads go to the primary for %d s%s",
            replica.pool->settings().label, reason, requestId, static_cast<int>(kReplicaRetryMs / 1000),
            suppressed ? " (" + std::to_string(suppressed) + " similar warnings suppressed)" : std::string());
    } else {
        ++replica.suppressed;
    }
}

ConnectionPool::Lease HostDatabase::leasePrimary(const std::string& requestId) {
    if (!primary_) unavailable(requestId, "database '" + settings_.name + "': " + settings_.unusable, false);
    try {
        return primary_->acquire();
    } catch (const DatabaseUnavailable& e) {
        unavailable(requestId, e.what(), e.poolTimeout());
    }
}

ConnectionPool::Lease HostDatabase::leaseForRead(const std::string& requestId) {
    if (replicas_.empty()) return leasePrimary(requestId);
    std::size_t start = next_++;
    std::int64_t now = nowMs();
    for (std::size_t i = 0; i < replicas_.size(); ++i) {
        Replica& replica = *replicas_[(start + i) % replicas_.size()];
        if (replica.downUntilMs.load() > now) continue;
        try {
            return replica.pool->acquire();
        } catch (const DatabaseUnavailable& e) {
            if (!e.poolTimeout()) replicaDown(replica, requestId, e.what());
        }
    }
    ++fallbacks_;
    return leasePrimary(requestId);
}

DbConnection HostDatabase::acquire(const Request& request) {
    std::string requestId(request.requestId());
    ConnectionPool::Lease lease = leaseForRead(requestId);
    return DbConnection(std::make_unique<HostSession>(*this, std::move(lease), false, std::move(requestId)));
}

DbTransaction HostDatabase::transaction(const Request& request) {
    std::string requestId(request.requestId());
    ConnectionPool::Lease lease = leasePrimary(requestId);
    return DbTransaction(std::make_unique<HostSession>(*this, std::move(lease), true, std::move(requestId)));
}

bool HostDatabase::probe(std::string& reason) {
    if (!primary_) {
        reason = settings_.unusable;
        return false;
    }
    try {
        ConnectionPool::Lease lease = primary_->acquire();
        return true;
    } catch (const DatabaseUnavailable& e) {
        reason = e.what();
        return false;
    }
}

std::vector<ConnectionPool*> HostDatabase::replicaPools() const {
    std::vector<ConnectionPool*> pools;
    for (const auto& replica : replicas_) pools.push_back(replica->pool.get());
    return pools;
}

DatabaseStats HostDatabase::stats() const {
    DatabaseStats s;
    s.name = settings_.name;
    if (primary_) s.primary = primary_->stats();
    for (const auto& replica : replicas_) s.replicas.push_back(replica->pool->stats());
    s.replicaFallbacks = fallbacks_.load();
    return s;
}

}  // namespace berth::server
