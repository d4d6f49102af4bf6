#include "visit_detail.h"

#include <Poco/Logger.h>

#include <optional>
#include <stdexcept>

#include "berth/error.h"
#include "berth/fanout.h"
#include "berth/http_client.h"

namespace berth::plugins::visits {
namespace {

constexpr int kDetailUnavailable = 50311;

/// One field's answer: its value, or null and what went wrong.
struct Fetched {
    Json value;
    Json error;
};

/// A Berth service answers with its envelope ({"status":true,…,"data":…}): the data is the value.
Json unwrapEnvelope(Json body) {
    const Json* data = body.find("data");
    if (data != nullptr && body["status"].isBool()) return *data;
    return body;
}

Fetched fetch(const char* field, HttpClient& client, const std::string& path) {
    try {
        return {unwrapEnvelope(client.getJson(path)), nullptr};
    } catch (const ApiError& e) {  // unreachable, timed out, or an answer that is not 2xx JSON
        return {nullptr, Json::object({{"field", field},
                                       {"service", client.service()},
                                       {"code", e.code()},
                                       {"message", e.message()},
                                       {"detail", e.error()}})};
    }
}

/// "1,2,3" for [1,2,3]; empty for an empty (or null) list.
std::string idList(const Json& ids) {
    std::string out;
    if (!ids.isArray()) return out;
    for (const Json& id : ids.asArray()) out += (out.empty() ? "" : ",") + std::to_string(id.asInt());
    return out;
}

}  // namespace

void VisitDetail::configure(Context& context) {
    std::int64_t timeoutMs = context.getInt("detail_timeout_ms", timeout_.count());
    if (timeoutMs < 1 || timeoutMs > 600000)
        throw std::invalid_argument("detail_timeout_ms = " + std::to_string(timeoutMs) +
                                    ": must be 1 to 600000 milliseconds");
    timeout_ = std::chrono::milliseconds(timeoutMs);
    for (Service* service : {&hospital_, &city_, &products_, &users_}) {
        service->name = context.getString(service->key, service->fallback);
        try {
            service->client = &context.http(service->name);
        } catch (const std::invalid_argument& e) {
            missing_.push_back("clients." + service->name + ".url");
            context.logger().warning("GET /visit_tasks/<id>/detail will answer 503: %s",
                                     std::string(e.what()));
        }
    }
}

void VisitDetail::requireServices() const {
    if (missing_.empty()) return;
    Json keys = Json::array();
    for (const std::string& key : missing_) keys.push(key);
    throw ApiError(503, kDetailUnavailable, "visit task details are not configured",
                   Json::object({{"missing", std::move(keys)}}));
}

Json VisitDetail::expand(Json task) const {
    requireServices();
    const std::string hospitalPath = "/hospitals/" + std::to_string(task["hospital_id"].asInt());
    const std::optional<std::string> cityPath =
        task["city_id"].isInt()
            ? std::optional<std::string>("/cities/" + std::to_string(task["city_id"].asInt()))
            : std::nullopt;
    const std::string productIds = idList(task["product_ids"]);
    const std::string userIds = idList(task["user_ids"]);
    // Captured by value only: after a timeout a task may still run while this call has returned.
    HttpClient* hospitals = hospital_.client;
    HttpClient* cities = city_.client;
    HttpClient* products = products_.client;
    HttpClient* users = users_.client;
    auto [hospital, city, productList, userList] = gather(
        timeout_, [hospitals, hospitalPath] { return fetch("hospital", *hospitals, hospitalPath); },
        [cities, cityPath] { return cityPath ? fetch("city", *cities, *cityPath) : Fetched{}; },
        [products, productIds] {
            return productIds.empty() ? Fetched{Json::array(), nullptr}
                                      : fetch("products", *products, "/products?ids=" + productIds);
        },
        [users, userIds] {
            return userIds.empty() ? Fetched{Json::array(), nullptr}
                                   : fetch("users", *users, "/users?ids=" + userIds);
        });
    Json errors = Json::array();
    for (Fetched* fetched : {&hospital, &city, &productList, &userList})
        if (!fetched->error.isNull()) errors.push(std::move(fetched->error));
    task.set("hospital", std::move(hospital.value));
    task.set("city", std::move(city.value));
    task.set("products", std::move(productList.value));
    task.set("users", std::move(userList.value));
    task.set("errors", std::move(errors));
    return task;
}

}  // namespace berth::plugins::visits
