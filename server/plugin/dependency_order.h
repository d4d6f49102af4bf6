#pragma once
// Start order from the plugins' declared requirements (drogon's PluginsManager idea): a plugin
// starts after everything it requires and stops before it.

#include <map>
#include <string>
#include <vector>

namespace berth::server {

struct DependencyNode {
    std::string name;
    std::vector<std::string> requirements;
};

struct DependencyOrder {
    std::vector<std::string> order;              // requirements first; input order otherwise
    std::map<std::string, std::string> refused;  // name → why it cannot start
};

/// Refuses plugins whose requirement is missing or refused, and every plugin on a cycle.
DependencyOrder orderByRequirements(const std::vector<DependencyNode>& nodes);

}  // namespace berth::server
