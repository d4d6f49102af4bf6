// Replica routing: reads (acquire) go to the replica, transactions to the primary; a replica that
// does not answer sends reads to the primary (counted, with a warning) instead of failing them.
#include <Poco/Logger.h>
#include <cppunit/extensions/HelperMacros.h>

#include "berth/db.h"
#include "berthd_process.h"
#include "db/database_registry.h"
#include "pg_env.h"

using berth::Json;
using berth::server::DatabaseRegistry;
using berth::test::TestRequest;

namespace {

template <typename Handle>  // DbConnection or DbTransaction
bool inRecovery(Handle& conn) {
    berth::DbResult r = conn.query("SELECT pg_is_in_recovery() AS r");
    return r[0]["r"].asBool();
}

}  // namespace

class DbReplicaTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DbReplicaTest);
    CPPUNIT_TEST(testReadsGoToTheReplica);
    CPPUNIT_TEST(testTransactionsGoToThePrimary);
    CPPUNIT_TEST(testReplicaDownFallsBackToPrimary);
    CPPUNIT_TEST(testWithoutReplicasReadsUseThePrimary);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testReadsGoToTheReplica() {
        DatabaseRegistry registry({withReplica(berth::test::pgEnv().replicaPort)},
                                  Poco::Logger::get("berth.db"));
        for (int i = 0; i < 3; ++i) {
            berth::DbConnection conn = registry.get("main").acquire(request_);
            CPPUNIT_ASSERT_MESSAGE("a read went to the primary", inRecovery(conn));
        }
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), registry.stats()[0].replicaFallbacks);
        CPPUNIT_ASSERT(registry.stats()[0].replicas.at(0).created >= 1);
    }

    void testTransactionsGoToThePrimary() {
        DatabaseRegistry registry({withReplica(berth::test::pgEnv().replicaPort)},
                                  Poco::Logger::get("berth.db"));
        berth::DbTransaction tx = registry.get("main").transaction(request_);
        CPPUNIT_ASSERT(!inRecovery(tx));
        tx.commit();
    }

    void testReplicaDownFallsBackToPrimary() {
        int nobody = berth::test::pickFreePort();  // nothing listens there: connection refused
        DatabaseRegistry registry({withReplica(nobody)}, Poco::Logger::get("berth.db"));
        for (int i = 0; i < 3; ++i) {
            berth::DbConnection conn = registry.get("main").acquire(request_);
            CPPUNIT_ASSERT(!inRecovery(conn));
        }
        auto stats = registry.stats()[0];
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), stats.replicaFallbacks);
        // Only the first read tried the replica; the others skipped it while it is marked down.
        CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), stats.replicas.at(0).errors);
    }

    void testWithoutReplicasReadsUseThePrimary() {
        DatabaseRegistry registry({berth::test::testDatabase()}, Poco::Logger::get("berth.db"));
        berth::DbConnection conn = registry.get("main").acquire(request_);
        CPPUNIT_ASSERT(!inRecovery(conn));
    }

  private:
    berth::server::DatabaseSettings withReplica(int port) {
        berth::server::DatabaseSettings settings = berth::test::testDatabase();
        settings.replicas.push_back({berth::test::pgEnv().host, port});
        return settings;
    }

    TestRequest request_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(DbReplicaTest);
