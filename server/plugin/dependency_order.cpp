#include "dependency_order.h"

#include <algorithm>
#include <functional>

namespace berth::server {

DependencyOrder orderByRequirements(const std::vector<DependencyNode>& nodes) {
    enum class State { Unvisited, Visiting, Done };
    std::map<std::string, const DependencyNode*> byName;
    for (const DependencyNode& node : nodes) byName[node.name] = &node;
    std::map<std::string, State> state;
    DependencyOrder result;
    std::vector<std::string> path;

    // Returns false when `name` cannot start.
    std::function<bool(const std::string&)> visit = [&](const std::string& name) -> bool {
        State& s = state[name];
        if (s == State::Done) return result.refused.count(name) == 0;
        if (s == State::Visiting) {
            auto from = std::find(path.begin(), path.end(), name);
            std::string cycle;
            for (auto it = from; it != path.end(); ++it) cycle += *it + " -> ";
            cycle += name;
            for (auto it = from; it != path.end(); ++it)
                result.refused.emplace(*it, "requirement cycle: " + cycle);
            return false;
        }
        s = State::Visiting;
        path.push_back(name);
        bool ok = true;
        for (const std::string& required : byName[name]->requirements) {
            if (byName.count(required) == 0) {
                result.refused.emplace(name, "requires plugin '" + required + "', which is not loaded");
                ok = false;
                break;
            }
            if (!visit(required)) {
                result.refused.emplace(name, "requires plugin '" + required + "', which cannot start");
                ok = false;
                break;
            }
        }
        path.pop_back();
        state[name] = State::Done;
        if (ok && result.refused.count(name) == 0) {
            result.order.push_back(name);
            return true;
        }
        return false;
    };

    for (const DependencyNode& node : nodes) visit(node.name);
    return result;
}

}  // namespace berth::server
