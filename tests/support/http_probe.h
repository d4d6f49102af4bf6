#pragma once
// A small HTTP client for the end-to-end tests: one request per connection through
// Poco::Net::HTTPClientSession, or raw bytes through a StreamSocket when the request must be
// malformed, exact (header counts and sizes) or must show what a HEAD answer really carries.
//
//     berth::test::HttpProbe http(port);
//     berth::test::HttpResult r = http.get("/hello/greet/bob", {{"X-Request-Id", "abc"}});
//     r.status;                                  // 200
//     r.header("X-Request-Id");                  // "abc"
//     r.json()->getValue<bool>("status");         // true

#include <Poco/JSON/Object.h>

#include <string>
#include <utility>
#include <vector>

namespace berth::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
    int status = 0;
    std::string reason;
    Headers headers;  ///< in the order received
    std::string body;

    /// True when a header of that name (any case) was received.
    bool has(const std::string& name) const;
    /// The first value of that header (any case), or "" when absent.
    std::string header(const std::string& name) const;
    /// Every value of that header (any case).
    std::vector<std::string> headerValues(const std::string& name) const;
    /// The body parsed as a JSON object; throws std::runtime_error naming the body otherwise.
    Poco::JSON::Object::Ptr json() const;
    /// "HTTP <status> <reason>\n<headers>\n\n<body>", for assertion messages.
    std::string describe() const;
};

/// Parses a status line and headers starting at `from`; returns where the body starts.
/// Throws std::runtime_error when the bytes there are not an HTTP response head.
std::size_t parseHead(const std::string& bytes, std::size_t from, HttpResult& result);

/// What came back on a raw connection.
struct RawAnswer {
    std::string bytes;      ///< everything received
    bool closed = false;    ///< the server closed (or reset) the connection
    bool timedOut = false;  ///< nothing more arrived within the probe's timeout, connection still open
    /// The responses in `bytes`, one after another, each body framed by its Content-Length
    /// (none: empty). Not for answers to HEAD.
    std::vector<HttpResult> responses() const;
};

/// One request to send through HTTPClientSession.
struct HttpCall {
    std::string method = "GET";
    std::string target = "/";
    Headers headers;
    std::string body;
    std::string contentType;  ///< sent when not empty
    bool chunked = false;     ///< Transfer-Encoding: chunked instead of Content-Length
    /// Send "Content-Length: 0" with an empty body even for methods that usually carry none
    /// (OPTIONS, DELETE...). Browsers send a preflight OPTIONS without it.
    bool contentLength = false;
};

class HttpProbe {
  public:
    /// Each request gives up (Poco::TimeoutException) after `timeoutMs` without progress.
    explicit HttpProbe(int port, int timeoutMs = 5000, std::string host = "127.0.0.1");

    HttpResult get(const std::string& target, const Headers& headers = {}) const;
    HttpResult post(const std::string& target, const std::string& body,
                    const std::string& contentType = "application/json", const Headers& headers = {}) const;
    HttpResult send(const HttpCall& call) const;
    /// `method` with a JSON body (application/json; no body when empty) and Content-Length always
    /// sent (also 0, for DELETE).
    HttpResult json(const std::string& method, const std::string& target, const std::string& body = "") const;

    /// Writes `request` as is, reads until the server closes the connection (send
    /// "Connection: close") and parses the answer. The body is whatever followed the blank line.
    HttpResult raw(const std::string& request) const;

    /// Writes `request` as is and reads until the server closes the connection or nothing
    /// arrives for the probe's timeout; never throws for a timeout.
    RawAnswer exchange(const std::string& request) const;

  private:
    int port_;
    int timeoutMs_;
    std::string host_;
};

}  // namespace berth::test
