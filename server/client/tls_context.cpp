#include "tls_context.h"

#include <Poco/Net/NetSSL.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>

#include <mutex>

namespace berth::server {

Poco::Net::Context::Ptr clientTlsContext(const std::string& caFile) {
    Poco::Net::Context::Ptr context(new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, caFile,
                                                           Poco::Net::Context::VERIFY_RELAXED, 9, true));
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // Unset, SSLManager would build its certificate handler from the Application's configuration,
    // whose default asks on the console whether to accept a certificate that failed to verify.
    static std::once_flag handlerSet;
    std::call_once(handlerSet, [&] {
        Poco::Net::initializeSSL();
        Poco::Net::SSLManager::instance().initializeClient(
            nullptr, new Poco::Net::RejectCertificateHandler(false), context);
    });
    return context;
}

}  // namespace berth::server
