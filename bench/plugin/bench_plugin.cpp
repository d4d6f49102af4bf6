// TechEmpower-style routes for bench/: the smallest possible handlers, so that what is measured
// is Berth's own cost (engine, routing, request id, CORS, envelope, access log, metrics).
#include "berth/plugin.h"

namespace berth::plugins::bench {

class BenchPlugin : public Plugin {
  public:
    static constexpr const char* kName = "bench";
    static constexpr const char* kVersion = "1.0.0";

    void start(Router& router) override {
        router.get("/plaintext", [](const Request&) { return Reply::raw("Hello, World!", "text/plain"); },
                   {true, "TechEmpower plaintext"});
        router.get("/json",
                   [](const Request&) {
                       return Json::object({{"message", "Hello, World!"}});
                   },
                   {true, "TechEmpower json, in the envelope"});
        // The same answer through the worker pool, to see what the thread handoff costs.
        router.get("/json-worker",
                   [](const Request&) {
                       return Json::object({{"message", "Hello, World!"}});
                   },
                   {false, "json on a worker thread"});
    }
};

}  // namespace berth::plugins::bench

BERTH_PLUGIN(berth::plugins::bench::BenchPlugin)
