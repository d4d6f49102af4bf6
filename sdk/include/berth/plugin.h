#pragma once
/// berth/plugin.h — the plugin contract: a class derived from berth::Plugin and one
/// BERTH_PLUGIN line that exports it.
///
///     class Hello : public berth::Plugin {
///     public:
///         static constexpr const char* kName = "hello";       // [a-z0-9_-], the default prefix
///         static constexpr const char* kVersion = "1.0.0";
///         // optional: plugins that must be started first
///         static constexpr const char* kRequires[] = {"auth", nullptr};
///         void configure(berth::Context& ctx) override;        // read settings
///         void start(berth::Router& router) override;          // register routes
///         void stop() override;                                 // after in-flight requests drained
///     };
///     BERTH_PLUGIN(Hello)
///
/// The host talks to a plugin only through the plain-C descriptor below, so an exception
/// thrown in configure/start/stop is caught inside the plugin and reported as a message.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <type_traits>

#include <Poco/Version.h>

#include "berth/context.h"
#include "berth/router.h"

#define BERTH_ABI_VERSION 1
#define BERTH_SDK_VERSION "0.1.0"
#define BERTH_SDK_VERSION_MAJOR 0

#define BERTH_STRINGIFY_(x) #x
#define BERTH_STRINGIFY(x) BERTH_STRINGIFY_(x)
#if defined(__clang__)
#define BERTH_COMPILER_FAMILY "clang"
#else
#define BERTH_COMPILER_FAMILY "gcc"
#endif
/// What must match between host and plugin besides the ABI version: anything that changes
/// the layout of std:: or Poco types the SDK passes across (nginx's NGX_MODULE_SIGNATURE idea).
#define BERTH_BUILD_SIGNATURE \
    "abi=" BERTH_STRINGIFY(BERTH_ABI_VERSION) ";sdk=" BERTH_STRINGIFY(BERTH_SDK_VERSION_MAJOR)     \
        ";cc=" BERTH_COMPILER_FAMILY ";libstdc++=" BERTH_STRINGIFY(_GLIBCXX_RELEASE) ";cxx11abi=" \
            BERTH_STRINGIFY(_GLIBCXX_USE_CXX11_ABI) ";poco=" BERTH_STRINGIFY(POCO_VERSION)

extern "C" {

/// Lifecycle calls return 0 on success, or non-zero after writing a NUL-terminated reason
/// into `error` (at most `errorSize` bytes). Strings are owned by the plugin and live as long
/// as the library stays loaded. Append-only: new fields go at the end, before `reserved`.
typedef struct berth_plugin_descriptor {
    uint32_t abi_version;  // first, so any future host can read it safely
    uint32_t struct_size;
    const char* build_signature;
    const char* name;
    const char* version;
    const char* const* requires_plugins;  // NULL-terminated list, or NULL
    void* (*create)(char* error, size_t errorSize);
    void (*destroy)(void* plugin);
    int (*configure)(void* plugin, void* context, char* error, size_t errorSize);
    int (*start)(void* plugin, void* router, char* error, size_t errorSize);
    int (*stop)(void* plugin, char* error, size_t errorSize);
    void* reserved[8];
} berth_plugin_descriptor;

typedef const berth_plugin_descriptor* (*berth_plugin_entry_fn)(void);
}

#define BERTH_PLUGIN_ENTRY_SYMBOL "berth_plugin_entry_v1"

namespace berth {
inline namespace v1 {

class Plugin {
  public:
    virtual ~Plugin();
    virtual void configure(Context& context);
    virtual void start(Router& router) = 0;
    virtual void stop();
};

namespace detail {

inline void reportError(char* error, std::size_t size, const char* what) noexcept {
    if (error != nullptr && size > 0) std::snprintf(error, size, "%s", what);
}

template <class Call>
int guarded(char* error, std::size_t size, Call&& call) noexcept {
    try {
        call();
        return 0;
    } catch (const std::exception& e) {
        reportError(error, size, e.what());
    } catch (...) {
        reportError(error, size, "unknown exception");
    }
    return 1;
}

template <class T, class = void>
struct RequiresOf {
    static constexpr const char* const* value = nullptr;
};
template <class T>
struct RequiresOf<T, std::void_t<decltype(T::kRequires)>> {
    static constexpr const char* const* value = T::kRequires;
};

template <class T>
const berth_plugin_descriptor* describe() noexcept {
    static_assert(std::is_base_of_v<Plugin, T>, "BERTH_PLUGIN needs a class derived from berth::Plugin");
    static const berth_plugin_descriptor descriptor = {
        BERTH_ABI_VERSION,
        sizeof(berth_plugin_descriptor),
        BERTH_BUILD_SIGNATURE,
        T::kName,
        T::kVersion,
        RequiresOf<T>::value,
        [](char* error, std::size_t size) noexcept -> void* {
            Plugin* plugin = nullptr;
            guarded(error, size, [&] { plugin = new T(); });
            return plugin;
        },
        [](void* plugin) noexcept { delete static_cast<Plugin*>(plugin); },
        [](void* plugin, void* context, char* error, std::size_t size) noexcept {
            return guarded(error, size,
                           [&] { static_cast<Plugin*>(plugin)->configure(*static_cast<Context*>(context)); });
        },
        [](void* plugin, void* router, char* error, std::size_t size) noexcept {
            return guarded(error, size,
                           [&] { static_cast<Plugin*>(plugin)->start(*static_cast<Router*>(router)); });
        },
        [](void* plugin, char* error, std::size_t size) noexcept {
            return guarded(error, size, [&] { static_cast<Plugin*>(plugin)->stop(); });
        },
        {},
    };
    return &descriptor;
}

}  // namespace detail
}  // namespace v1
}  // namespace berth

/// Exports `Class` as this library's plugin. Use once per plugin, at namespace scope.
#define BERTH_PLUGIN(Class)                                                                                 \
    extern "C" __attribute__((visibility("default"))) const berth_plugin_descriptor* berth_plugin_entry_v1( \
        void) {                                                                                             \
        return ::berth::detail::describe<Class>();                                                          \
    }
