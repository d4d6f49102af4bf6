#pragma once
// Which logger names belong to a plugin: "berth.<plugin>" and its children. The JSON log
// formatter names the plugin of a line logged outside a request (configure(), start(), a
// plugin's own thread) from this; a host logger such as berth.http is never taken for one.

#include <string>
#include <string_view>

namespace berth::server {

/// Called for each plugin whose context is made (its logger is "berth.<plugin>"). Thread-safe.
void notePluginLogger(std::string_view plugin);

/// The plugin whose logger `loggerName` is ("berth.visits" and "berth.visits.sync" → "visits"),
/// or "" when it is no plugin's. Thread-safe; takes a lock, so not for a request's hot path.
std::string pluginOfLogger(std::string_view loggerName);

}  // namespace berth::server
