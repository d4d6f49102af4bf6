// The public Db API's compile-time guarantees: a DbTransaction is not a DbConnection (no slicing
// into a handle that silently rolls back), and a row or cell cannot be taken from a temporary
// result (it would dangle).
#include <cppunit/extensions/HelperMacros.h>

#include <type_traits>
#include <utility>

#include "berth/db.h"

using berth::DbConnection;
using berth::DbResult;
using berth::DbTransaction;

namespace {

template <typename T, typename = void>
struct RowOf : std::false_type {};
template <typename T>
struct RowOf<T, std::void_t<decltype(std::declval<T>()[std::size_t(0)])>> : std::true_type {};

template <typename T, typename = void>
struct CellOf : std::false_type {};
template <typename T>
struct CellOf<T, std::void_t<decltype(std::declval<T>().cell(std::size_t(0), std::size_t(0)))>>
    : std::true_type {};

}  // namespace

static_assert(!std::is_constructible_v<DbConnection, DbTransaction>);
static_assert(!std::is_constructible_v<DbConnection, DbTransaction&&>);
static_assert(!std::is_convertible_v<DbTransaction*, DbConnection*>);
static_assert(!std::is_convertible_v<DbTransaction&, DbConnection&>);
static_assert(std::is_nothrow_destructible_v<DbTransaction>);
static_assert(RowOf<const DbResult&>::value && RowOf<DbResult&>::value);
static_assert(!RowOf<DbResult>::value && !RowOf<DbResult&&>::value);
static_assert(CellOf<const DbResult&>::value && !CellOf<DbResult>::value);

class DbApiTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(DbApiTest);
    CPPUNIT_TEST(testCompileTimeGuarantees);
    CPPUNIT_TEST_SUITE_END();

  public:
    // The static_asserts above are the test; this names them in the runner's output.
    void testCompileTimeGuarantees() {
        CPPUNIT_ASSERT(!(std::is_constructible_v<DbConnection, DbTransaction>));
        CPPUNIT_ASSERT(!RowOf<DbResult>::value);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(DbApiTest);
