// The smallest useful plugin: a greeting, an echo, and one route for each error path so that
// the envelopes can be seen with curl.
#include <stdexcept>
#include <string>

#include <Poco/Logger.h>

#include "berth/error.h"
#include "berth/plugin.h"

namespace berth::plugins::hello {

class HelloPlugin : public Plugin {
  public:
    static constexpr const char* kName = "hello";
    static constexpr const char* kVersion = "1.0.0";

    void configure(Context& context) override {
        greeting_ = context.getString("greeting", "Hello");
        context.logger().information("greeting is '" + greeting_ + "'");
    }

    void start(Router& router) override {
        router.get("/greet/<name>",
                   [this](const Request& request) {
                       return Json::object({{"greeting", greeting_ + ", " + request.param("name") + "!"}});
                   },
                   {true, "Greets <name>"});

        router.post("/echo", [](const Request& request) { return request.json(); },
                    {true, "Returns the JSON body as data"});

        router.get("/numbers/<n:int>",
                   [](const Request& request) {
                       return Json::object({{"n", request.paramInt("n")}});
                   },
                   {true, "Echoes a 64-bit integer path parameter"});

        router.get("/error",
                   [](const Request&) -> Reply {
                       throw ApiError(422, 42201, "cannot greet nobody",
                                      "demo of an ApiError: the caller sees this");
                   },
                   {true, "Always fails with an ApiError (422)"});

        router.get("/crash",
                   [](const Request&) -> Reply {
                       throw std::runtime_error("demo of an unexpected exception: only the log sees this");
                   },
                   {true, "Always throws std::runtime_error (500)"});
    }

  private:
    std::string greeting_;
};

}  // namespace berth::plugins::hello

BERTH_PLUGIN(berth::plugins::hello::HelloPlugin)
