#include "outgoing_headers.h"

#include <Poco/Net/HTTPRequest.h>

#include "../observe/log_context.h"
#include "../trace/span_scope.h"

namespace berth::server {

void addOutgoingHeaders(Poco::Net::HTTPRequest& request, const SpanScope& span) {
    const LogContext& context = currentLogContext();
    if (!context.requestId.empty() && !request.has("X-Request-Id"))
        request.set("X-Request-Id", std::string(context.requestId));
    span.injectHeaders(request);  // replaces any tracing header the plugin set: ours are the truth
}

}  // namespace berth::server
