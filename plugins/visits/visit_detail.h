#pragma once
// GET /visits/visit_tasks/<id>/detail: a visit task with its hospital, city, products and users
// filled in from their services (conf/plugins.d/visits.properties names them, berth.properties'
// clients.<service>.* says where they are), called at once with berth::gather — the old
// asyncio.gather of the visit-task service. Only the SDK.
//
// A service that fails leaves its field null and adds an entry to "errors" (the answer is still
// 200): the task is there, and the caller decides what a missing city means. Only the fan-out's own
// deadline (detail_timeout_ms) fails the whole request (504).

#include <chrono>
#include <string>
#include <vector>

#include "berth/context.h"
#include "berth/json.h"

namespace berth {
inline namespace v1 {
class HttpClient;
}
}  // namespace berth

namespace berth::plugins::visits {

class VisitDetail {
  public:
    /// Reads the *_service keys and detail_timeout_ms. A service berth.properties does not
    /// configure is noted (the route then answers 503 naming it), not a reason to refuse the plugin:
    /// the CRUD routes work without any downstream service.
    void configure(Context& context);

    /// Throws ApiError 503 naming the services berth.properties lacks.
    void requireServices() const;

    /// `task` (a row of visit_tasks as JSON) plus "hospital", "city", "products", "users" and
    /// "errors".
    Json expand(Json task) const;

  private:
    struct Service {
        const char* key;       // the plugin's setting: "hospital_service"
        const char* fallback;  // its default: "hospital-service"
        std::string name;
        HttpClient* client;
    };

    Service hospital_{"hospital_service", "hospital-service", {}, nullptr};
    Service city_{"city_service", "city-service", {}, nullptr};
    Service products_{"product_service", "product-service", {}, nullptr};
    Service users_{"user_service", "user-service", {}, nullptr};
    std::vector<std::string> missing_;  // "clients.<service>.url" of the unconfigured ones
    std::chrono::milliseconds timeout_{10000};
};

}  // namespace berth::plugins::visits
