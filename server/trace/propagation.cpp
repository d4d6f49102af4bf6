#include "propagation.h"

#include "../http/request_id.h"

namespace berth::server {
namespace {

// `lower` is lowercase; header names are tokens, so folding with 0x20 is exact for them.
bool nameIs(std::string_view name, std::string_view lower) noexcept {
    for (std::size_t i = 0; i < lower.size(); ++i)
        if ((name[i] | 0x20) != lower[i]) return false;
    return true;
}

// Lowercase only: B3 and W3C both define the ids as lower-hex, and W3C calls uppercase invalid.
bool parseHex(std::string_view text, std::uint64_t& out) noexcept {
    std::uint64_t value = 0;
    for (char c : text) {
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = static_cast<unsigned>(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = static_cast<unsigned>(c - 'a' + 10);
        else
            return false;
        value = value << 4 | digit;
    }
    out = value;
    return true;
}

// 16 or 32 hex digits, not all zero.
bool parseTraceId(std::string_view text, TraceContext& context) noexcept {
    if (text.size() == 16) {
        context.traceHigh = 0;
        if (!parseHex(text, context.traceLow)) return false;
    } else if (text.size() == 32) {
        if (!parseHex(text.substr(0, 16), context.traceHigh) || !parseHex(text.substr(16), context.traceLow))
            return false;
    } else {
        return false;
    }
    return context.hasTraceId();
}

// Exactly 16 hex digits, not all zero.
bool parseSpanId(std::string_view text, std::uint64_t& out) noexcept {
    return text.size() == 16 && parseHex(text, out) && out != 0;
}

// B3's sampling state: "1", "0" or "d" (debug).
bool parseB3Sampled(std::string_view text, IncomingTrace& out) noexcept {
    if (text == "1") {
        out.decision = SamplingDecision::Accept;
    } else if (text == "0") {
        out.decision = SamplingDecision::Deny;
    } else if (text == "d") {
        out.decision = SamplingDecision::Accept;
        out.debug = true;
    } else {
        return false;
    }
    return true;
}

std::string hex64(std::uint64_t value) {
    std::string text(16, '0');
    writeHex(text.data(), value);
    return text;
}

}  // namespace

void TraceHeaderViews::note(std::string_view name, std::string_view value) noexcept {
    std::string_view* slot = nullptr;
    switch (name.size()) {
        case 2:
            if (nameIs(name, "b3")) slot = &b3;
            break;
        case 10:
            if (nameIs(name, "x-b3-flags")) slot = &flags;
            break;
        case 11:
            if (nameIs(name, "x-b3-spanid"))
                slot = &spanId;
            else if (nameIs(name, "traceparent"))
                slot = &traceparent;
            break;
        case 12:
            if (nameIs(name, "x-b3-traceid"))
                slot = &traceId;
            else if (nameIs(name, "x-b3-sampled"))
                slot = &sampled;
            break;
        case 17:
            if (nameIs(name, "x-b3-parentspanid")) slot = &parentSpanId;
            break;
        default:
            return;
    }
    if (slot == nullptr || slot->data() != nullptr) return;  // not ours, or not the first
    *slot = value;
    any = true;
}

bool parseB3Single(std::string_view value, IncomingTrace& out) noexcept {
    out = IncomingTrace{};
    if (value.size() == 1) return parseB3Sampled(value, out);  // a decision without ids
    std::string_view parts[4];
    std::size_t count = 0;
    while (true) {
        std::size_t dash = value.find('-');
        if (count == 4) return false;
        parts[count++] = value.substr(0, dash);
        if (dash == std::string_view::npos) break;
        value.remove_prefix(dash + 1);
    }
    if (count < 2) return false;
    if (!parseTraceId(parts[0], out.caller) || !parseSpanId(parts[1], out.caller.spanId)) return false;
    if (count >= 3 && !parseB3Sampled(parts[2], out)) return false;
    if (count == 4 && !parseSpanId(parts[3], out.caller.parentId)) return false;
    return true;
}

bool parseB3Multi(const TraceHeaderViews& h, IncomingTrace& out) noexcept {
    out = IncomingTrace{};
    bool ids = !h.traceId.empty() || !h.spanId.empty() || !h.parentSpanId.empty();
    if (!ids && h.sampled.empty() && h.flags.empty()) return false;
    if (ids) {
        if (!parseTraceId(h.traceId, out.caller) || !parseSpanId(h.spanId, out.caller.spanId)) return false;
        if (!h.parentSpanId.empty() && !parseSpanId(h.parentSpanId, out.caller.parentId)) return false;
    }
    if (!h.sampled.empty()) {
        // "true"/"false" are what early B3 clients sent; the spec still asks receivers to accept them.
        if (h.sampled == "1" || h.sampled == "true")
            out.decision = SamplingDecision::Accept;
        else if (h.sampled == "0" || h.sampled == "false")
            out.decision = SamplingDecision::Deny;
        else
            return false;
    }
    if (!h.flags.empty()) {
        if (h.flags == "1") {
            out.debug = true;
            out.decision = SamplingDecision::Accept;
        } else if (h.flags != "0") {
            return false;
        }
    }
    return true;
}

bool parseTraceparent(std::string_view value, IncomingTrace& out) noexcept {
    out = IncomingTrace{};
    // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
    if (value.size() < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
    std::uint64_t version = 0, flags = 0;
    if (!parseHex(value.substr(0, 2), version) || version == 0xff) return false;
    // Version 00 is exactly 55 characters; a later version may append "-" and more fields.
    if (version == 0 ? value.size() != 55 : value.size() > 55 && value[55] != '-') return false;
    if (!parseTraceId(value.substr(3, 32), out.caller)) return false;
    if (!parseSpanId(value.substr(36, 16), out.caller.spanId)) return false;
    if (!parseHex(value.substr(53, 2), flags)) return false;
    out.decision = (flags & 1) != 0 ? SamplingDecision::Accept : SamplingDecision::Deny;
    return true;
}

IncomingTrace extractTrace(const TraceHeaderViews& h) noexcept {
    IncomingTrace out;
    if (!h.any) return out;
    if ((!h.b3.empty() && parseB3Single(h.b3, out)) || parseB3Multi(h, out)) {
        out.format = TraceFormat::B3;
        return out;
    }
    if (!h.traceparent.empty() && parseTraceparent(h.traceparent, out)) {
        out.format = TraceFormat::Traceparent;
        return out;
    }
    return IncomingTrace{};
}

namespace {

bool isLower(char c) noexcept {
    return c >= 'a' && c <= 'z';
}

bool isDigit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// Every character one of a tracestate key's: lcalpha / DIGIT / "_" / "-" / "*" / "/".
bool keyCharsOnly(std::string_view text) noexcept {
    for (char c : text)
        if (!isLower(c) && !isDigit(c) && c != '_' && c != '-' && c != '*' && c != '/') return false;
    return true;
}

// simple-key = lcalpha 0*255(keychar); multi-tenant-key = tenant-id "@" system-id, where
// tenant-id = (lcalpha / DIGIT) 0*240(keychar) and system-id = lcalpha 0*13(keychar).
bool isTraceStateKey(std::string_view key) noexcept {
    std::size_t at = key.find('@');
    if (at == std::string_view::npos)
        return !key.empty() && key.size() <= 256 && isLower(key[0]) && keyCharsOnly(key);
    std::string_view tenant = key.substr(0, at), system = key.substr(at + 1);
    return !tenant.empty() && tenant.size() <= 241 && (isLower(tenant[0]) || isDigit(tenant[0])) &&
           keyCharsOnly(tenant) && !system.empty() && system.size() <= 14 && isLower(system[0]) &&
           keyCharsOnly(system);
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-7E without "," and "=".
bool isTraceStateValue(std::string_view value) noexcept {
    if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
    for (char c : value)
        if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
    return true;
}

std::string_view trimBlanks(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

bool isValidTraceState(std::string_view list) noexcept {
    constexpr std::size_t kMaxMembers = 32;
    std::string_view keys[kMaxMembers];
    std::size_t count = 0;
    while (true) {
        std::size_t comma = list.find(',');
        std::string_view member = trimBlanks(list.substr(0, comma));
        if (!member.empty()) {
            std::size_t equals = member.find('=');
            if (equals == std::string_view::npos || count == kMaxMembers) return false;
            std::string_view key = member.substr(0, equals);
            if (!isTraceStateKey(key) || !isTraceStateValue(member.substr(equals + 1))) return false;
            for (std::size_t i = 0; i < count; ++i)
                if (keys[i] == key) return false;  // a key appears once
            keys[count++] = key;
        }
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

std::string traceIdHex(const TraceContext& context) {
    return context.traceHigh != 0 ? hex64(context.traceHigh) + hex64(context.traceLow)
                                  : hex64(context.traceLow);
}

std::string spanIdHex(std::uint64_t id) {
    return hex64(id);
}

HeaderList propagationHeaders(const TraceContext& context, std::string_view traceState) {
    HeaderList headers;
    if (!context.hasTraceId()) {
        headers.emplace_back("X-B3-Sampled", "0");
        headers.emplace_back("b3", "0");
        return headers;
    }
    const std::string trace = traceIdHex(context);
    const std::string span = hex64(context.spanId);
    const char* state = context.debug ? "d" : context.sampled ? "1" : "0";
    headers.reserve(8);
    headers.emplace_back("X-B3-TraceId", trace);
    headers.emplace_back("X-B3-SpanId", span);
    if (context.parentId != 0) headers.emplace_back("X-B3-ParentSpanId", hex64(context.parentId));
    // Debug implies sampled, and the spec says not to send both.
    if (context.debug)
        headers.emplace_back("X-B3-Flags", "1");
    else
        headers.emplace_back("X-B3-Sampled", state);
    std::string single = trace + "-" + span + "-" + state;
    if (context.parentId != 0) single += "-" + hex64(context.parentId);
    headers.emplace_back("b3", std::move(single));
    // traceparent always carries 128 bits: a 64-bit id is left-padded with zeros.
    headers.emplace_back("traceparent", "00-" + hex64(context.traceHigh) + hex64(context.traceLow) + "-" +
                                            span + (context.sampled || context.debug ? "-01" : "-00"));
    // The vendors' entries of a traceparent caller, unchanged (W3C Trace Context §3.3).
    if (!traceState.empty()) headers.emplace_back("tracestate", traceState);
    return headers;
}

}  // namespace berth::server
