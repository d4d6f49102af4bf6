#include "plugin_loggers.h"

#include <mutex>
#include <set>

namespace berth::server {
namespace {

constexpr std::string_view kPrefix = "berth.";

struct Registry {
    std::mutex mutex;
    std::set<std::string, std::less<>> plugins;
};

Registry& registry() {
    // Never destroyed: a static destructor may run before the last log line of another one.
    static Registry* instance = new Registry;
    return *instance;
}

}  // namespace

void notePluginLogger(std::string_view plugin) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.plugins.emplace(plugin);
}

std::string pluginOfLogger(std::string_view loggerName) {
    if (loggerName.substr(0, kPrefix.size()) != kPrefix) return {};
    std::string_view rest = loggerName.substr(kPrefix.size());
    std::string_view first = rest.substr(0, rest.find('.'));
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.plugins.count(first) != 0 ? std::string(first) : std::string();
}

}  // namespace berth::server
