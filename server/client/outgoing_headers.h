#pragma once
// What every downstream call carries from the request its thread serves: X-Request-Id (from the
// thread's log context, which berth::gather carries into its tasks) and the tracing headers.
// The one place where outgoing requests get them.

namespace Poco::Net {
class HTTPRequest;
}

namespace berth::server {

class SpanScope;

/// Adds X-Request-Id (unless the plugin set one) and the tracing headers of `span`, the call's
/// client span (B3 and traceparent: the service's server span becomes its child), to `request`.
void addOutgoingHeaders(Poco::Net::HTTPRequest& request, const SpanScope& span);

}  // namespace berth::server
