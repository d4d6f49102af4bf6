#pragma once
// One plugin file, loaded and checked: the entry point exists, the ABI version and the build
// signature match this berthd, the name is usable. Nothing of the plugin runs but its entry point.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "berth/plugin.h"

namespace Poco {
class SharedLibrary;
}

namespace berth::server {

/// Why a file could not be used as a plugin; what() is the reason without the path.
class PluginLoadError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class PluginLibrary {
  public:
    /// Throws PluginLoadError: not loadable (with the loader's message), no entry symbol,
    /// wrong ABI version, descriptor too small, other build signature, bad name.
    static std::unique_ptr<PluginLibrary> open(const std::string& path);
    ~PluginLibrary();

    const std::string& path() const noexcept { return path_; }
    const berth_plugin_descriptor& descriptor() const noexcept { return *descriptor_; }
    std::string name() const { return descriptor_->name; }
    std::string version() const { return descriptor_->version; }
    std::vector<std::string> requiredPlugins() const;

    /// [a-z0-9_-], 1–64 characters: it becomes a URL prefix, a logger name and a file name.
    static bool validName(const char* name) noexcept;

  private:
    PluginLibrary() = default;

    std::string path_;
    std::unique_ptr<Poco::SharedLibrary> library_;
    const berth_plugin_descriptor* descriptor_ = nullptr;
};

}  // namespace berth::server
