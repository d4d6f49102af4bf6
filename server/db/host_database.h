#pragma once
// berth::Database as the host implements it for one `db.<name>`: a pool for the primary and one
// per replica. Reads (acquire) go round-robin to the replicas and fall back to the primary, with
// a rate-limited warning, when a replica is down; transactions always use the primary. A
// connection the server closed while idle is dropped and the first statement retried on another
// (host_session.h); otherwise an outage or a full pool answers ApiError 503 "database unavailable".

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "berth/db.h"
#include "connection_pool.h"
#include "database_settings.h"

namespace Poco {
class Logger;
}

namespace berth::server {

struct DatabaseStats {
    std::string name;
    PoolStats primary;
    std::vector<PoolStats> replicas;
    std::uint64_t replicaFallbacks = 0;  // reads sent to the primary because no replica answered
};

class HostDatabase : public Database {
  public:
    HostDatabase(DatabaseSettings settings, Poco::Logger& logger);
    ~HostDatabase() override;

    const std::string& name() const noexcept override { return settings_.name; }
    DbConnection acquire(const Request& request) override;
    DbTransaction transaction(const Request& request) override;

    /// Opens (and gives back) one primary connection; false, with the reason, when it fails.
    bool probe(std::string& reason);
    DatabaseStats stats() const;
    const DatabaseSettings& settings() const noexcept { return settings_; }
    /// For /ready: the primary's pool (null when the database is unusable), the replicas' pools.
    ConnectionPool* primaryPool() const noexcept { return primary_.get(); }
    std::vector<ConnectionPool*> replicaPools() const;

    // For the session: a lease for reads (replica or primary) or on the primary; throws ApiError 503.
    ConnectionPool::Lease leaseForRead(const std::string& requestId);
    ConnectionPool::Lease leasePrimary(const std::string& requestId);
    /// Logs and counts a failure; returns the ApiError 503 to throw.
    [[noreturn]] void unavailable(const std::string& requestId, const std::string& reason, bool poolTimeout);
    void connectionLost(ConnectionPool& pool, const std::string& requestId, const std::string& reason);
    Poco::Logger& logger() const noexcept { return logger_; }

  private:
    struct Replica {
        std::unique_ptr<ConnectionPool> pool;
        std::atomic<std::int64_t> downUntilMs{0};
        std::atomic<std::int64_t> lastWarningMs{0};
        std::atomic<std::uint64_t> suppressed{0};
    };
    void replicaDown(Replica& replica, const std::string& requestId, const std::string& reason);

    DatabaseSettings settings_;
    Poco::Logger& logger_;
    std::unique_ptr<ConnectionPool> primary_;
    std::vector<std::unique_ptr<Replica>> replicas_;
    std::atomic<std::size_t> next_{0};
    std::atomic<std::uint64_t> fallbacks_{0};
    std::atomic<std::int64_t> lastOutageLogMs_{0};
};

}  // namespace berth::server
