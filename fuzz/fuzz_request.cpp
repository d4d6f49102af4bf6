// libFuzzer harness: bytes from a client → RequestParser, fed the way Connection feeds it →
// HttpPipeline (routes of every parameter type, CORS on) → writeResponse, message after
// message on one connection. Besides the sanitizers, it checks what the connection relies on:
// the parser's guarantees about a Complete message, a response head nobody can split, the same
// answers however the bytes are cut into reads, and never NeedMore once a message has taken
// more than RequestParser::maxMessageBytes() (Connection::readSome stops reading just past it).
//
// Input layout:
//   byte 0   a separator byte: where the client's bytes are cut into reads
//   byte 1   options: bit 0 set → separators are cut marks only (dropped), else the cut comes
//            after each separator (kept); bits 1-2: limits (0 default, 1 small, 2 tiny,
//            3 no body at all); bit 3: CORS allows "*" (else one origin); bit 6: the last read
//            is sent again and again while its message waits, until the stream passes the
//            connection's read cap (128 KiB at most), so that small inputs reach the limits
//   rest     what the client sends
#include <Poco/AutoPtr.h>
#include <Poco/Logger.h>
#include <Poco/NullChannel.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/error.h"
#include "berth/json.h"
#include "http/pipeline.h"
#include "http/request_parser.h"
#include "http/response_writer.h"

using berth::ApiError;
using berth::Json;
using berth::Method;
using berth::Reply;
using berth::Request;
using berth::server::CorsPolicy;
using berth::server::CorsSettings;
using berth::server::HostRequest;
using berth::server::HttpLimits;
using berth::server::HttpPipeline;
using berth::server::HttpResponse;
using berth::server::ParserLimits;
using berth::server::PluginRoutes;
using berth::server::RequestParser;
using berth::server::RouteTable;

namespace {

// Connection::readSome reads 16 KiB at a time until it holds maxMessageBytes() + one read.
constexpr std::size_t kReadChunk = 16 * 1024;
// Option bit 6 repeats the last read until the stream passes the read cap, or this many bytes.
constexpr std::size_t kMaxRepeatedStream = 128 * 1024;
constexpr std::size_t kRepeatedReadBytes = 1024;

[[noreturn]] void violated(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "\n*** fuzz_request: %s\n%.*s\n", what,
                 static_cast<int>(std::min<std::size_t>(detail.size(), 2000)), detail.data());
    std::abort();
}

std::string optional(const std::optional<std::string>& value) {
    return value ? *value : std::string("<absent>");
}

// The same mapping as Connection's originForm (absolute-form is answered like its origin-form).
std::string_view originForm(std::string_view target) {
    if (!target.empty() && target[0] == '/') return target;
    std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return target;
    std::size_t path = target.find_first_of("/?", scheme + 3);
    if (path == std::string_view::npos) return "/";
    return target.substr(path);
}

PluginRoutes makeRoutes() {
    PluginRoutes routes;
    routes.get("/items/<id:int>", [](const Request& r) -> Reply {
        return Json::object({{"id", r.paramInt("id")}, {"x", optional(r.query("x"))}});
    });
    routes.put("/items/<id:int>", [](const Request& r) -> Reply {
        return Json::object({{"id", r.paramInt("id")}, {"body", r.json()}});
    });
    routes.del("/items/<id:int>", [](const Request&) -> Reply { return Reply::noContent(); });
    routes.get("/users/<name>", [](const Request& r) -> Reply {
        return Json::object({{"name", r.param("name")}, {"q", optional(r.query("q"))}});
    });
    routes.patch("/users/<name>/<rest:path>", [](const Request& r) -> Reply {
        return Json::object({{"name", r.param("name")}, {"rest", r.param("rest")}, {"json", r.json()}});
    });
    // Decoded path and query text into response headers: must never split the response.
    routes.get("/files/<rest:path>", [](const Request& r) -> Reply {
        return Reply::raw(r.param("rest"), "text/plain")
            .header("X-Path", r.param("rest"))
            .header(optional(r.query("h")), optional(r.query("v")));
    });
    routes.post("/echo", [](const Request& r) -> Reply {
        const Json& body = r.json();
        Json out = Json::object({{"json", body}, {"x", optional(r.query("x"))}});
        out["size"] = static_cast<std::int64_t>(body.size());
        out["ua"] = std::string(r.header("User-Agent"));
        if (body.isObject()) {
            if (const Json* status = body.find("status"); status != nullptr && status->isInt())
                return Reply(std::move(out)).status(static_cast<int>(status->asInt() % 1000));
            if (const Json* fail = body.find("fail"); fail != nullptr && fail->isInt())
                throw ApiError(static_cast<int>(fail->asInt() % 1000), 1, "asked to fail", body);
        }
        return Reply::created(std::move(out));
    });
    routes.get("/search", [](const Request& r) -> Reply {
        Json hits = Json::array();
        for (const auto& header : r.headers()) hits.push(std::string(header.name));
        return Json::object({{"x", optional(r.query("x"))},
                             {"y", optional(r.query("y"))},
                             {"raw", std::string(r.queryString())},
                             {"headers", std::move(hits)}});
    });
    routes.get("/missing", [](const Request& r) -> Reply { return Json(r.param("nope")); });
    routes.get("/boom", [](const Request&) -> Reply { throw std::runtime_error("boom"); });
    return routes;
}

struct Fixture {
    RouteTable table;
    std::unique_ptr<HttpPipeline> pipelines[2][4];  // [cors "*"][limits profile]
    ParserLimits limits[4];
    Poco::Logger* logger;

    Fixture() {
        logger = &Poco::Logger::get("fuzz");
        logger->setChannel(Poco::AutoPtr<Poco::Channel>(new Poco::NullChannel));
        logger->setLevel(Poco::Message::PRIO_DEBUG);  // format every message, drop it
        PluginRoutes routes = makeRoutes();
        table.reserve("/health");
        if (table.mount("p", "/p", std::move(routes.routes()))) violated("mount failed");
        const std::size_t profiles[4][3] = {
            {16 * 1024, 64, 1024 * 1024}, {256, 8, 512}, {64, 4, 16}, {1024, 16, 0}};
        for (int p = 0; p < 4; ++p) {
            limits[p].maxHeaderBytes = profiles[p][0];
            limits[p].maxHeaderCount = profiles[p][1];
            limits[p].maxBodyBytes = profiles[p][2];
            HttpLimits http;
            http.maxHeaderBytes = limits[p].maxHeaderBytes;
            http.maxHeaderCount = limits[p].maxHeaderCount;
            http.maxBodyBytes = limits[p].maxBodyBytes;
            for (int star = 0; star < 2; ++star) {
                CorsSettings cors;
                cors.allowedOrigins = star ? std::vector<std::string>{"*"}
                                           : std::vector<std::string>{"https://app.example.com"};
                cors.allowCredentials = star != 0;
                pipelines[star][p] = std::make_unique<HttpPipeline>(table, CorsPolicy(cors), http, *logger);
                pipelines[star][p]->addHostEndpoint("/health", [] {
                    return Json::object({{"status", "up"}});
                });
            }
        }
    }
};

bool valueByte(unsigned char c) {
    return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

/// What the parser promises about a Complete message, checked against the bytes.
void checkComplete(const RequestParser& parser, const std::string& input, const ParserLimits& limits) {
    const std::size_t consumed = parser.consumed();
    if (consumed == 0 || consumed > input.size()) violated("consumed() outside the buffer");
    auto inside = [&](RequestParser::Span span) {
        return std::size_t(span.offset) + span.length <= consumed;
    };
    if (!inside(parser.methodText()) || parser.methodText().length == 0) violated("bad method span");
    if (!inside(parser.target()) || parser.target().length == 0) violated("bad target span");
    for (std::size_t i = 0; i < parser.target().length; ++i) {
        auto c = static_cast<unsigned char>(input[parser.target().offset + i]);
        if (c <= 0x20 || c >= 0x7f) violated("target byte outside VCHAR", input);
    }
    std::size_t fieldBytes = 0;
    int hosts = 0, lengths = 0, codings = 0;
    for (const RequestParser::Field& field : parser.fields()) {
        if (!inside(field.name) || !inside(field.value) || field.name.length == 0) violated("bad field span");
        std::string_view name(input.data() + field.name.offset, field.name.length);
        std::string_view value(input.data() + field.value.offset, field.value.length);
        for (char c : value)
            if (!valueByte(static_cast<unsigned char>(c))) violated("field value byte not allowed", input);
        if (!value.empty() &&
            (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' || value.back() == '\t'))
            violated("field value not trimmed", input);
        fieldBytes += name.size() + value.size() + 4;
        auto is = [&](std::string_view other) {
            if (name.size() != other.size()) return false;
            for (std::size_t i = 0; i < name.size(); ++i)
                if ((name[i] | 0x20) != other[i]) return false;
            return true;
        };
        hosts += is("host");
        lengths += is("content-length");
        codings += is("transfer-encoding");
    }
    if (parser.fields().size() > limits.maxHeaderCount) violated("more fields than maxHeaderCount", input);
    if (fieldBytes > limits.maxHeaderBytes) violated("more field bytes than maxHeaderBytes", input);
    if (parser.minorVersion() >= 1 && hosts != 1)
        violated("HTTP/1.1 message without exactly one Host", input);
    if (hosts > 1 || lengths > 1 || codings > 1 || (lengths && codings))
        violated("framing fields the parser must refuse", input);
    std::string_view body = parser.body(input.data());
    if (body.size() > limits.maxBodyBytes) violated("body over maxBodyBytes", input);
    if (codings == 0 && body.size() != 0 &&
        (body.data() < input.data() || body.data() + body.size() != input.data() + consumed))
        violated("Content-Length body is not the bytes before consumed()", input);
}

/// A response head must be CRLF lines without stray CR, LF or NUL, and its Content-Length must
/// be the body that follows; a JSON body must be JSON.
void checkResponse(std::string_view out, const HttpResponse& response, bool head) {
    std::size_t end = out.find("\r\n\r\n");
    if (out.compare(0, 9, "HTTP/1.1 ") != 0 || end == std::string_view::npos) violated("response head", out);
    std::string_view headText = out.substr(0, end + 2);
    for (std::size_t i = 0; i < headText.size(); ++i) {
        char c = headText[i];
        if (c == '\0') violated("NUL in a response head", out);
        if (c == '\r' && (i + 1 >= headText.size() || headText[i + 1] != '\n'))
            violated("CR in a response head", out);
        if (c == '\n' && (i == 0 || headText[i - 1] != '\r')) violated("LF in a response head", out);
    }
    std::string_view body = out.substr(end + 4);
    const bool bodyless = response.status < 200 || response.status == 204 || response.status == 304;
    if (bodyless || head) {
        if (!body.empty()) violated("a body where none may be", out);
    } else if (body != response.body) {
        violated("body written differs", out);
    }
    if (!bodyless) {
        std::string length = "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\n";
        if (headText.find(length) == std::string_view::npos) violated("Content-Length does not match", out);
    }
    if (!bodyless && response.contentType == "application/json") {
        try {
            Json::parse(response.body);
        } catch (const berth::JsonError& e) {
            // The envelope adds a level: data nested 512 deep (what parse accepts) makes 513.
            if (std::string_view(e.what()).find("nested deeper") == std::string_view::npos)
                violated("a JSON body that is not JSON", response.body);
        }
    }
}

/// One client connection, driven as Connection drives its parser (server/http/connection.cpp,
/// readSome and process); `transcript` says what happened to each message, for comparing two
/// ways of cutting the same bytes.
class FakeConnection {
  public:
    FakeConnection(const HttpPipeline& pipeline, const ParserLimits& limits)
        : pipeline_(pipeline), limits_(limits), parser_(limits) {}

    bool closed() const noexcept { return closed_; }
    const std::string& transcript() const noexcept { return transcript_; }
    /// Messages answered or refused so far.
    std::size_t answers() const noexcept { return answers_; }

    /// What the client sent in one go: Connection::readSome takes it 16 KiB at a time until it
    /// holds maxMessageBytes() + 16 KiB (or has it all), then process() runs, and again.
    void receive(std::string_view bytes) {
        const std::size_t cap = parser_.maxMessageBytes() + kReadChunk;
        while (!closed_ && !bytes.empty()) {
            if (input_.size() >= cap)
                violated(
                    "the connection's buffer is full and the parser still waits: "
                    "Connection::onReadable would spin",
                    input_);
            while (!bytes.empty() && input_.size() < cap) {
                std::size_t n = std::min(bytes.size(), kReadChunk);
                input_.append(bytes.data(), n);
                bytes.remove_prefix(n);
            }
            process();
        }
    }

  private:
    void process() {
        while (!closed_) {
            if (!started_) {
                // RFC 9112 2.2: empty lines before a request line are ignored; a lone CR may be
                // half of one, so it waits for what follows.
                std::size_t skip = 0;
                while (skip + 1 < input_.size() && input_[skip] == '\r' && input_[skip + 1] == '\n')
                    skip += 2;
                input_.erase(0, skip);
                if (input_.empty() || input_ == "\r") return;
                started_ = true;
            }
            RequestParser::Status status = parser_.parse(input_.data(), input_.size());
            if (status == RequestParser::Status::HeadersDone) {
                if (!parser_.expectsBody()) violated("HeadersDone without a body", input_);
                if (parser_.expectsContinue() && parser_.minorVersion() >= 1) transcript_ += "100 ";
                status = parser_.parse(input_.data(), input_.size());
                if (status == RequestParser::Status::HeadersDone) violated("HeadersDone twice", input_);
            }
            if (status == RequestParser::Status::NeedMore) {
                // Connection::process answers 413 here, a case that "cannot happen".
                if (input_.size() > parser_.maxMessageBytes())
                    violated("NeedMore with more than maxMessageBytes() buffered", input_);
                return;
            }
            if (status == RequestParser::Status::Error) {
                refuse();
                return;
            }
            dispatch();
        }
    }

    void refuse() {
        const int status = parser_.errorStatus();
        switch (status) {
            case 400:
            case 413:
            case 414:
            case 417:
            case 431:
            case 501:
            case 505:
                break;
            default:
                violated("unexpected refusal status", parser_.errorDetail());
        }
        if (parser_.errorDetail().empty()) violated("a refusal without a detail");
        HostRequest request;
        for (const RequestParser::Field& field : parser_.fields())
            request.addHeader(view(field.name), view(field.value));
        HttpResponse response;
        pipeline_.reject(request, status, "refused", parser_.errorDetail(), response);
        std::string out;
        berth::server::writeResponse(out, response, false, false);
        checkResponse(out, response, false);
        transcript_ += "E" + std::to_string(status) + " " + parser_.errorDetail() + "\n";
        ++answers_;
        closed_ = true;
    }

    void dispatch() {
        checkComplete(parser_, input_, limits_);
        HostRequest request;
        request.setMethod(parser_.method());
        request.setMethodText(view(parser_.methodText()));
        request.setTarget(originForm(view(parser_.target())));
        for (const RequestParser::Field& field : parser_.fields())
            request.addHeader(view(field.name), view(field.value));
        request.setBody(parser_.body(input_.data()));
        const bool keepAlive = parser_.keepAlive();
        const bool head = parser_.method() == Method::Head;
        HttpResponse response;
        const berth::server::Route* route = pipeline_.prepare(request, response);
        if (route != nullptr) pipeline_.run(*route, request, response);
        std::string out;
        berth::server::writeResponse(out, response, head, keepAlive, parser_.minorVersion() == 0);
        checkResponse(out, response, head);
        transcript_ += std::to_string(response.status) + " " + std::string(view(parser_.methodText())) + " " +
                       std::string(view(parser_.target())) +
                       " fields=" + std::to_string(parser_.fields().size()) +
                       " body=" + std::to_string(parser_.body(input_.data()).size()) + ":" +
                       std::to_string(std::hash<std::string_view>()(parser_.body(input_.data()))) +
                       " consumed=" + std::to_string(parser_.consumed()) + (keepAlive ? "" : " close") + "\n";
        ++answers_;
        input_.erase(0, parser_.consumed());
        parser_.reset();
        started_ = false;
        if (!keepAlive) closed_ = true;
    }

    std::string_view view(RequestParser::Span span) const {
        return {input_.data() + span.offset, span.length};
    }

    const HttpPipeline& pipeline_;
    const ParserLimits& limits_;
    RequestParser parser_;
    std::string input_;
    bool started_ = false;
    bool closed_ = false;
    std::size_t answers_ = 0;
    std::string transcript_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture* fixture = new Fixture;  // lives for the whole run
    if (size < 2) return 0;
    const char separator = static_cast<char>(data[0]);
    const std::uint8_t options = data[1];
    const bool dropSeparators = (options & 1) != 0;
    const int profile = (options >> 1) & 3;
    const int star = (options >> 3) & 1;
    const bool repeatLast = (options & 0x40) != 0;
    std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
    const HttpPipeline& pipeline = *fixture->pipelines[star][profile];
    const ParserLimits& limits = fixture->limits[profile];

    // The bytes the client sends, read after read.
    FakeConnection split(pipeline, limits);
    std::string whole;
    std::size_t reads = 0;
    auto send = [&](std::string_view read) {
        whole.append(read.data(), read.size());
        ++reads;
        split.receive(read);
    };
    std::string_view rest = stream;
    std::string_view last;
    while (!rest.empty()) {
        std::size_t at = rest.find(separator);
        if (at == std::string_view::npos)
            at = rest.size();
        else if (!dropSeparators)
            ++at;
        last = rest.substr(0, at);
        send(last);
        rest.remove_prefix(std::min(rest.size(), dropSeparators ? at + 1 : at));
    }
    // Option bit 6: the last read again and again (in reads of at least 1 KiB), while the
    // message it belongs to is still waiting, up to just past the connection's read cap.
    if (repeatLast && !last.empty()) {
        std::string unit(last);
        while (unit.size() < kRepeatedReadBytes) unit += last;
        const std::size_t target =
            std::min(RequestParser(limits).maxMessageBytes() + 2 * kReadChunk, kMaxRepeatedStream);
        const std::size_t answers = split.answers();
        while (whole.size() < target && !split.closed() && split.answers() == answers) send(unit);
    }

    static const bool verbose = std::getenv("BERTH_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "%zu reads:\n%s", reads, split.transcript().c_str());

    // The answers must not depend on where the reads end.
    FakeConnection once(pipeline, limits);
    once.receive(whole);
    if (once.transcript() != split.transcript())
        violated("the same bytes cut differently got different answers",
                 "in one read:\n" + once.transcript() + "in " + std::to_string(reads) + " reads:\n" +
                     split.transcript());
    return 0;
}
