#pragma once
// https for the downstream clients (Poco NetSSL, OpenSSL): a client context that verifies the
// server's certificate chain against the system's CAs (plus clients.<service>.ca_file) and its
// host name, and refuses, never asks, when they do not check out.

#include <Poco/Net/Context.h>

#include <string>

namespace berth::server {

/// Throws Poco::Exception when `caFile` cannot be loaded.
Poco::Net::Context::Ptr clientTlsContext(const std::string& caFile);

}  // namespace berth::server
