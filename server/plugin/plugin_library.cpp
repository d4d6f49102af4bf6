#include "plugin_library.h"

#include <Poco/Exception.h>
#include <Poco/SharedLibrary.h>
#include <dlfcn.h>
#include <cstring>

namespace berth::server {

bool PluginLibrary::validName(const char* name) noexcept {
    if (name == nullptr) return false;
    std::size_t length = std::strlen(name);
    if (length == 0 || length > 64) return false;
    for (const char* c = name; *c != '\0'; ++c) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
        if (!ok) return false;
    }
    return true;
}

std::unique_ptr<PluginLibrary> PluginLibrary::open(const std::string& path) {
    // Poco::SharedLibrary binds lazily (RTLD_LAZY), so a missing symbol would surface as a crash
    // in the middle of a request. Opening once with RTLD_NOW first reports it here, with the
    // loader's own words; Poco's load then shares the already relocated handle.
    void* probe = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (probe == nullptr) {
        const char* why = ::dlerror();
        throw PluginLoadError(std::string("cannot be loaded: ") +
                              (why != nullptr ? why : "unknown dlopen error"));
    }
    std::unique_ptr<PluginLibrary> plugin(new PluginLibrary);
    plugin->path_ = path;
    try {
        plugin->library_ = std::make_unique<Poco::SharedLibrary>(path, Poco::SharedLibrary::SHLIB_LOCAL);
    } catch (const Poco::Exception& e) {
        ::dlclose(probe);
        throw PluginLoadError("cannot be loaded: " + e.displayText());
    }
    ::dlclose(probe);

    if (!plugin->library_->hasSymbol(BERTH_PLUGIN_ENTRY_SYMBOL))
        throw PluginLoadError("not a Berth plugin: no " BERTH_PLUGIN_ENTRY_SYMBOL " symbol");
    auto entry =
        reinterpret_cast<berth_plugin_entry_fn>(plugin->library_->getSymbol(BERTH_PLUGIN_ENTRY_SYMBOL));
    const berth_plugin_descriptor* descriptor = entry();
    if (descriptor == nullptr) throw PluginLoadError("entry point returned no descriptor");
    if (descriptor->abi_version != static_cast<uint32_t>(BERTH_ABI_VERSION))
        throw PluginLoadError("plugin ABI version " + std::to_string(descriptor->abi_version) +
                              ", this berthd expects " + std::to_string(BERTH_ABI_VERSION));
    if (descriptor->struct_size < sizeof(berth_plugin_descriptor))
        throw PluginLoadError("descriptor is " + std::to_string(descriptor->struct_size) +
                              " bytes, this berthd expects at least " +
                              std::to_string(sizeof(berth_plugin_descriptor)));
    const char* signature = descriptor->build_signature != nullptr ? descriptor->build_signature : "(none)";
    if (std::strcmp(signature, BERTH_BUILD_SIGNATURE) != 0)
        throw PluginLoadError(std::string("built as '") + signature +
                              "', this berthd is '" BERTH_BUILD_SIGNATURE
                              "': rebuild the plugin against this SDK");
    if (!validName(descriptor->name))
        throw PluginLoadError(std::string("invalid plugin name '") +
                              (descriptor->name != nullptr ? descriptor->name : "(null)") +
                              "': use 1-64 characters of [a-z0-9_-]");
    if (descriptor->version == nullptr || descriptor->version[0] == '\0')
        throw PluginLoadError("plugin '" + std::string(descriptor->name) + "' declares no version");
    if (descriptor->create == nullptr || descriptor->destroy == nullptr || descriptor->configure == nullptr ||
        descriptor->start == nullptr || descriptor->stop == nullptr)
        throw PluginLoadError("descriptor lacks a lifecycle function");
    plugin->descriptor_ = descriptor;
    return plugin;
}

PluginLibrary::~PluginLibrary() {
    if (library_ && library_->isLoaded()) library_->unload();
}

std::vector<std::string> PluginLibrary::requiredPlugins() const {
    std::vector<std::string> names;
    if (descriptor_->requires_plugins != nullptr)
        for (const char* const* name = descriptor_->requires_plugins; *name != nullptr; ++name)
            names.emplace_back(*name);
    return names;
}

}  // namespace berth::server
