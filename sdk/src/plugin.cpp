// Key functions of the SDK's interfaces: their vtables and type_info live once, here.
#include "berth/plugin.h"

namespace berth {
inline namespace v1 {

Plugin::~Plugin() = default;
void Plugin::configure(Context&) {}
void Plugin::stop() {}
Router::~Router() = default;
Context::~Context() = default;

}  // namespace v1
}  // namespace berth
