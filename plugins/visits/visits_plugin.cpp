// The old "visit task" service as a Berth plugin: CRUD on visit_tasks in PostgreSQL, the table
// made by the plugin's own migrations. Only the SDK: ctx.db() for the database,
// ctx.addMigrations() for the schema, ApiError for the 400 and 404 envelopes, a CacheModel over
// ctx.cache() in front of GET by id, and a detail route filled from downstream services at once
// (visit_detail.h).
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "berth/cache_model.h"
#include "berth/db.h"
#include "berth/error.h"
#include "berth/plugin.h"
#include "visit_detail.h"

namespace berth::plugins::visits {
namespace {

constexpr const char* kColumns =
    "id, title, description, hospital_id, city_id, product_ids, user_ids, status, scheduled_at, created_at, "
    "updated_at";
constexpr int kInvalid = 40001;
constexpr int kNotFound = 40401;
constexpr std::int64_t kDefaultLimit = 20;
constexpr std::int64_t kMaxLimit = 100;
constexpr std::int64_t kDefaultCacheTtl = 60;
constexpr std::int64_t kMaxCacheTtl = 86400;

[[noreturn]] void invalid(const std::string& field, const std::string& reason) {
    throw ApiError(400, kInvalid, "invalid " + field + ": " + reason,
                   Json::object({{"field", field}, {"reason", reason}}));
}

[[noreturn]] void notFound(std::int64_t id) {
    throw ApiError(404, kNotFound, "visit task not found", "no visit task with id " + std::to_string(id));
}

std::size_t codePoints(const std::string& text) {
    std::size_t n = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

/// NUL cannot be stored in a PostgreSQL text, and other control characters (but tab, newline and
/// carriage return) have no place in a title or description.
bool hasControlCharacters(const std::string& text) {
    for (unsigned char c : text)
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return true;
    return false;
}

/// RFC 3339 date-time, strictly: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm), with valid ranges
/// (days per month, leap years; second 60 for a leap second). PostgreSQL alone would also accept
/// now, today, epoch, infinity, "May 1 2024", BC dates and zone names.
bool isRfc3339(const std::string& t) {
    auto digits = [&](std::size_t at, std::size_t n, int& out) {
        if (at + n > t.size()) return false;
        out = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (t[i] < '0' || t[i] > '9') return false;
            out = out * 10 + (t[i] - '0');
        }
        return true;
    };
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(0, 4, year) || t.size() < 20 || t[4] != '-' || !digits(5, 2, month) || t[7] != '-' ||
        !digits(8, 2, day) || (t[10] != 'T' && t[10] != 't') || !digits(11, 2, hour) || t[13] != ':' ||
        !digits(14, 2, minute) || t[16] != ':' || !digits(17, 2, second))
        return false;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1 || month < 1 || month > 12 || day < 1 ||
        day > kDays[month - 1] + (month == 2 && leap ? 1 : 0) || hour > 23 || minute > 59 || second > 60)
        return false;
    std::size_t i = 19;
    if (t[i] == '.') {
        std::size_t start = ++i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
        if (i == start) return false;
    }
    if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) return i + 1 == t.size();
    int offsetHour = 0, offsetMinute = 0;
    return i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && digits(i + 1, 2, offsetHour) &&
           t[i + 3] == ':' && digits(i + 4, 2, offsetMinute) && offsetHour <= 23 && offsetMinute <= 59;
}

bool isInt32(const Json& value) {
    return value.isInt() && value.asInt() >= std::numeric_limits<std::int32_t>::min() &&
           value.asInt() <= std::numeric_limits<std::int32_t>::max();
}

/// The body of POST and PUT, checked field by field; the values bound as $1..$8.
std::vector<Json> taskParameters(const Request& request) {
    const Json& body = request.json();
    if (!body.isObject()) invalid("body", "must be a JSON object");
    static const char* const kFields[] = {"title",       "description", "hospital_id", "city_id",
                                          "product_ids", "user_ids",    "status",      "scheduled_at"};
    for (const auto& [key, value] : body.asObject()) {
        bool known = false;
        for (const char* field : kFields) known = known || key == field;
        if (!known) invalid(key, "is not a field of a visit task");
    }
    auto optional = [&](const char* field) -> const Json* {
        const Json* value = body.find(field);
        return value == nullptr || value->isNull() ? nullptr : value;
    };

    const Json* title = optional("title");
    if (title == nullptr) invalid("title", "is required");
    if (!title->isString()) invalid("title", "must be a string");
    std::size_t length = codePoints(title->asString());
    if (length < 1 || length > 200) invalid("title", "must be 1 to 200 characters");
    if (hasControlCharacters(title->asString())) invalid("title", "must not contain control characters");

    const Json* description = optional("description");
    if (description != nullptr && !description->isString())
        invalid("description", "must be a string or null");
    if (description != nullptr && hasControlCharacters(description->asString()))
        invalid("description", "must not contain control characters other than tab and line breaks");

    const Json* hospital = optional("hospital_id");
    if (hospital == nullptr) invalid("hospital_id", "is required");
    if (!isInt32(*hospital)) invalid("hospital_id", "must be a 32-bit integer");

    const Json* city = optional("city_id");
    if (city != nullptr && !isInt32(*city)) invalid("city_id", "must be a 32-bit integer or null");

    auto ids = [&](const char* field) {
        const Json* list = optional(field);
        if (list == nullptr) return Json::array();
        if (!list->isArray()) invalid(field, "must be an array of 32-bit integers");
        for (const Json& id : list->asArray())
            if (!isInt32(id)) invalid(field, "must be an array of 32-bit integers");
        return *list;
    };

    std::string status = "pending";
    if (const Json* value = optional("status")) {
        if (!value->isString()) invalid("status", "must be one of pending, in_progress, done");
        status = value->asString();
        if (status != "pending" && status != "in_progress" && status != "done")
            invalid("status", "must be one of pending, in_progress, done");
    }

    const Json* scheduled = optional("scheduled_at");
    if (scheduled != nullptr && (!scheduled->isString() || !isRfc3339(scheduled->asString())))
        invalid("scheduled_at", "must be an RFC 3339 timestamp such as 2024-05-01T09:30:00Z, or null");

    return {*title,
            description != nullptr ? *description : Json(nullptr),
            *hospital,
            city != nullptr ? *city : Json(nullptr),
            ids("product_ids"),
            ids("user_ids"),
            status,
            scheduled != nullptr ? *scheduled : Json(nullptr)};
}

/// PostgreSQL parses scheduled_at: a text it cannot read as a timestamp is the caller's mistake.
template <class Call>
auto mapTimestampErrors(Call&& call) {
    try {
        return call();
    } catch (const DbError& e) {
        // Class 22 (data exception) from the cast: invalid_datetime_format, datetime_field_overflow,
        // a time zone displacement out of range …; the format check above lets few through.
        if (e.sqlState().rfind("22", 0) == 0)
            invalid("scheduled_at", "must be an RFC 3339 timestamp such as 2024-05-01T09:30:00Z, or null");
        throw;
    }
}

std::int64_t queryInt(const Request& request, const char* name, std::int64_t fallback, std::int64_t min,
                      std::int64_t max) {
    std::optional<std::string> raw = request.query(name);
    if (!raw) return fallback;
    std::int64_t value = 0;
    std::size_t used = 0;
    try {
        value = std::stoll(*raw, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (raw->empty() || used != raw->size() || value < min || value > max)
        invalid(name,
                "must be an integer from " + std::to_string(min) +
                    (max == std::numeric_limits<std::int64_t>::max() ? " up" : " to " + std::to_string(max)));
    return value;
}

/// A task as GET answers it, cached as "visits:visit_task:<id>". The row's JSON is the value: on the
/// way back fromJson checks that it is a whole task and the model that it is this id's (idOf), so an
/// entry written by an older version (a column short), by someone else or under another id is a miss
/// instead of a wrong reply.
class VisitTaskCache : public CacheModel<Json> {
  public:
    VisitTaskCache(Cache& cache, std::chrono::seconds ttl) : CacheModel(cache, "visit_task:{id}", ttl) {}

  protected:
    std::string idOf(const Json& task) const override { return std::to_string(task["id"].asInt()); }
    Json toJson(const Json& task) const override { return task; }
    Json fromJson(const Json& json) const override {
        static const char* const kFields[] = {"id",           "title",       "description", "hospital_id",
                                              "city_id",      "product_ids", "user_ids",    "status",
                                              "scheduled_at", "created_at",  "updated_at"};
        if (!json.isObject() || !json["id"].isInt()) throw JsonError("not a visit task");
        for (const char* field : kFields)
            if (json.find(field) == nullptr) throw JsonError(std::string("a visit task without ") + field);
        return json;
    }
};

}  // namespace

class VisitsPlugin : public Plugin {
  public:
    static constexpr const char* kName = "visits";
    static constexpr const char* kVersion = "1.0.0";

    void configure(Context& context) override {
        std::string database = context.getString("database", "main");
        db_ = &context.db(database);
        prefix_ = context.prefix();
        // Seconds a task read by GET stays in Redis; 0 turns the cache off. Without redis.* every
        // GET simply reads PostgreSQL.
        std::int64_t ttl = context.getInt("cache_ttl_s", kDefaultCacheTtl);
        if (ttl < 0 || ttl > kMaxCacheTtl)
            throw std::invalid_argument("cache_ttl_s = " + std::to_string(ttl) +
                                        ": must be 0 (no cache) to " + std::to_string(kMaxCacheTtl) +
                                        " seconds");
        if (ttl > 0) tasks_ = std::make_unique<VisitTaskCache>(context.cache(), std::chrono::seconds(ttl));
        detail_.configure(context);
        Migration create{1,
                         "create visit_tasks",
                         "berth examples",
                         "CREATE TABLE visit_tasks ("
                         " id bigserial PRIMARY KEY,"
                         " title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),"
                         " description text,"
                         " hospital_id integer NOT NULL,"
                         " city_id integer,"
                         " product_ids integer[] NOT NULL DEFAULT '{}',"
                         " user_ids integer[] NOT NULL DEFAULT '{}',"
                         " status text NOT NULL DEFAULT 'pending'"
                         "  CHECK (status IN ('pending', 'in_progress', 'done')),"
                         " created_at timestamptz NOT NULL DEFAULT now(),"
                         " updated_at timestamptz NOT NULL DEFAULT now())",
                         "DROP TABLE visit_tasks",
                         database};
        Migration schedule{2,
                           "scheduled_at and an index on hospital_id",
                           "berth examples",
                           "ALTER TABLE visit_tasks ADD COLUMN scheduled_at timestamptz;"
                           " CREATE INDEX visit_tasks_hospital_id ON visit_tasks (hospital_id)",
                           "DROP INDEX visit_tasks_hospital_id;"
                           " ALTER TABLE visit_tasks DROP COLUMN scheduled_at",
                           database};
        context.addMigrations({create, schedule});
    }

    void start(Router& router) override {
        // Not nonBlocking: every route waits on PostgreSQL, so it runs on a worker.
        router.post("/visit_tasks", [this](const Request& request) { return create(request); },
                    {false, "Creates a visit task"});
        router.get("/visit_tasks", [this](const Request& request) { return list(request); },
                   {false, "Lists visit tasks (?limit=1..100, default 20; ?offset=0..)"});
        router.get("/visit_tasks/<id:int>", [this](const Request& request) { return get(request); },
                   {false, "One visit task"});
        router.get("/visit_tasks/<id:int>/detail", [this](const Request& request) { return detail(request); },
                   {false, "One visit task with its hospital, city, products and users from their services"});
        router.put("/visit_tasks/<id:int>", [this](const Request& request) { return replace(request); },
                   {false, "Replaces a visit task (every field, as for POST)"});
        router.del("/visit_tasks/<id:int>", [this](const Request& request) { return remove(request); },
                   {false, "Deletes a visit task (204)"});
    }

  private:
    Reply create(const Request& request) {
        std::vector<Json> params = taskParameters(request);
        return mapTimestampErrors([&] {
            DbTransaction tx = db_->transaction(request);
            DbResult rows = tx.query(
                std::string(
                    "INSERT INTO visit_tasks (title, description, hospital_id, city_id, product_ids, "
                    "user_ids, status, scheduled_at) VALUES ($1, $2, $3, $4, $5::int[], $6::int[], $7, "
                    "$8::timestamptz) RETURNING ") +
                    kColumns,
                params);
            Json task = rows[0].toJson();
            tx.commit();
            std::string location = prefix_ + "/visit_tasks/" + std::to_string(task["id"].asInt());
            return Reply::created(std::move(task)).header("Location", std::move(location));
        });
    }

    Reply get(const Request& request) {
        std::int64_t id = request.paramInt("id");
        std::optional<Json> task;
        if (tasks_) {
            // What gets cached is read from the primary: a replica may still show the row as it was
            // before a PUT whose invalidation has just happened, and that would stay for the TTL.
            task = tasks_->getOrLoad(id, [&]() -> std::optional<Json> {
                DbTransaction tx = db_->transaction(request);
                std::optional<Json> row = selectTask(tx, id);
                tx.commit();
                return row;
            });
        } else {
            DbConnection conn = db_->acquire(request);
            task = selectTask(conn, id);
        }
        if (!task) notFound(id);
        return std::move(*task);
    }

    // The task as GET reads it, then its hospital, city, products and users at once.
    Reply detail(const Request& request) {
        detail_.requireServices();  // before the database: a missing service fails every detail
        Json task = get(request).data();
        return detail_.expand(std::move(task));
    }

    template <class Session>
    static std::optional<Json> selectTask(Session& session, std::int64_t id) {
        DbResult rows =
            session.query(std::string("SELECT ") + kColumns + " FROM visit_tasks WHERE id = $1", {id});
        if (rows.empty()) return std::nullopt;
        return rows[0].toJson();
    }

    Reply list(const Request& request) {
        std::int64_t limit = queryInt(request, "limit", kDefaultLimit, 1, kMaxLimit);
        std::int64_t offset = queryInt(request, "offset", 0, 0, std::numeric_limits<std::int64_t>::max());
        DbConnection conn = db_->acquire(request);
        DbResult rows =
            conn.query(std::string("SELECT ") + kColumns + " FROM visit_tasks ORDER BY id LIMIT $1 OFFSET $2",
                       {limit, offset});
        DbResult counted = conn.query("SELECT count(*) AS total FROM visit_tasks");
        std::int64_t total = counted[0]["total"].asInt();
        Json page = Json::object();
        page.set("items", rows.toJson());
        page.set("total", total);
        page.set("limit", limit);
        page.set("offset", offset);
        return page;
    }

    Reply replace(const Request& request) {
        std::int64_t id = request.paramInt("id");
        std::vector<Json> params = taskParameters(request);
        params.resize(params.size() + 1);
        params.back() = Json(id);
        return mapTimestampErrors([&]() -> Reply {
            DbTransaction tx = db_->transaction(request);
            DbResult rows = tx.query(
                std::string(
                    "UPDATE visit_tasks SET title = $1, description = $2, hospital_id = $3, city_id = $4, "
                    "product_ids = $5::int[], user_ids = $6::int[], status = $7, scheduled_at = "
                    "$8::timestamptz, updated_at = now() WHERE id = $9 RETURNING ") +
                    kColumns,
                params);
            if (rows.empty()) notFound(id);
            Json task = rows[0].toJson();
            commitAndForget(tx, id);
            return task;
        });
    }

    Reply remove(const Request& request) {
        std::int64_t id = request.paramInt("id");
        DbTransaction tx = db_->transaction(request);
        if (tx.execute("DELETE FROM visit_tasks WHERE id = $1", {id}) == 0) notFound(id);
        commitAndForget(tx, id);
        return Reply::noContent();
    }

    // The cached task is invalidated after the commit, never before: a GET in between would cache
    // the old row again. A GET that read the old row before the commit and stores it after this is
    // kept from storing by the model (same berthd); one in another berthd can still store it, and it
    // stays until cache_ttl_s ends. A COMMIT that throws invalidates too, then rethrows: when the
    // connection was lost during it (DbError 08007) the change may well have been committed, and a
    // needless invalidation only costs the next GET a database read.
    void commitAndForget(DbTransaction& tx, std::int64_t id) {
        try {
            tx.commit();
        } catch (...) {
            forget(id);
            throw;
        }
        forget(id);
    }

    void forget(std::int64_t id) {
        if (tasks_) tasks_->invalidate(id);  // false (Redis unreachable): the model retries it
    }

    Database* db_ = nullptr;
    std::string prefix_;                     // for the Location of a created task
    std::unique_ptr<VisitTaskCache> tasks_;  // null: cache_ttl_s = 0
    VisitDetail detail_;
};

}  // namespace berth::plugins::visits

BERTH_PLUGIN(berth::plugins::visits::VisitsPlugin)
