#pragma once
// Reads the keys under one prefix ("redis.", "db.main.") of a backing service's settings,
// collecting problems. An undefined ${system.env.X} makes the service unusable (a warning, kept
// in `unusable`) rather than a problem, so that berthd starts without that service's settings.

#include <string>
#include <vector>

namespace Poco::Util {
class AbstractConfiguration;
}

namespace berth::server {

class ServiceSettingsReader {
  public:
    ServiceSettingsReader(const Poco::Util::AbstractConfiguration& config, std::string prefix,
                          std::vector<std::string>& problems, std::string& unusable)
        : config_(config), prefix_(std::move(prefix)), problems_(problems), unusable_(unusable) {}

    /// The trimmed value, or `fallback` when absent, unreadable or an undefined ${...}.
    std::string text(const std::string& key, const std::string& fallback);
    /// An integer in [min, max]; `fallback` when absent or wrong (wrong is also a problem).
    int integer(const std::string& key, int fallback, int min, int max);

    const std::string& prefix() const noexcept { return prefix_; }
    std::vector<std::string>& problems() noexcept { return problems_; }
    const std::string& unusable() const noexcept { return unusable_; }

  private:
    const Poco::Util::AbstractConfiguration& config_;
    std::string prefix_;
    std::vector<std::string>& problems_;
    std::string& unusable_;
};

/// Appends "<section>.<key> is not a berthd setting …" for each key under `section` not in `known`.
void reportUnknownKeys(const Poco::Util::AbstractConfiguration& config, const std::string& section,
                       const std::vector<std::string>& known, std::vector<std::string>& problems);

}  // namespace berth::server
