#include "pg_values.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace berth::server::pg {
namespace {

// Type OIDs from PostgreSQL's pg_type.dat (stable across versions).
enum Oid : std::uint32_t {
    kBool = 16,
    kBytea = 17,
    kInt8 = 20,
    kInt2 = 21,
    kInt4 = 23,
    kOid = 26,
    kJson = 114,
    kFloat4 = 700,
    kFloat8 = 701,
    kTimestamp = 1114,
    kTimestampTz = 1184,
    kNumeric = 1700,
    kJsonb = 3802,
};

// The element type of the array types we decode element by element; 0 for other types.
std::uint32_t elementType(std::uint32_t oid) {
    switch (oid) {
        case 1000:
            return kBool;
        case 1005:
            return kInt2;
        case 1007:
            return kInt4;
        case 1016:
            return kInt8;
        case 1028:
            return kOid;
        case 1021:
            return kFloat4;
        case 1022:
            return kFloat8;
        case 1231:
            return kNumeric;
        case 199:
            return kJson;
        case 3807:
            return kJsonb;
        case 1115:
            return kTimestamp;
        case 1185:
            return kTimestampTz;
        case 1009:
            return 25;  // text[]
        case 1015:
            return 1043;  // varchar[]
        case 1014:
            return 1042;  // bpchar[]
        case 1002:
            return 18;  // "char"[]
        case 1003:
            return 19;  // name[]
        case 2951:
            return 2950;  // uuid[]
        case 1182:
            return 1082;  // date[]
        case 1183:
            return 1083;  // time[]
        default:
            return 0;
    }
}

Json integer(std::string_view text) {
    std::string s(text);
    errno = 0;
    char* end = nullptr;
    long long value = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && end != s.c_str() && *end == '\0') return Json(static_cast<std::int64_t>(value));
    return Json(std::move(s));
}

Json floating(std::string_view text) {
    std::string s(text);
    double value = std::strtod(s.c_str(), nullptr);
    if (!std::isfinite(value)) return Json(nullptr);  // NaN, ±Infinity: JSON has no such numbers
    return Json(value);
}

// Digits that matter for a double: without the sign, the leading zeros and the trailing zeros.
std::size_t significantDigits(std::string_view text) {
    std::string digits;
    for (char c : text)
        if (c >= '0' && c <= '9' && !(digits.empty() && c == '0')) digits += c;
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return digits.size();
}

// numeric: an integer when integral and within 64 bits; a double when that is exact enough to
// give the same decimal back (at most 15 significant digits); else the decimal text, unrounded.
Json numeric(std::string_view text) {
    if (text.find_first_of(".eEN") == std::string_view::npos) {  // integral ("NaN" has an N)
        Json asInt = integer(text);
        if (asInt.isInt()) return asInt;
    }
    bool finiteText = text.find_first_of("NI") == std::string_view::npos;  // NaN, Infinity
    if (finiteText && significantDigits(text) > 15) return Json(std::string(text));
    return floating(text);
}

// "2024-05-01 12:30:00.5+00" → "2024-05-01T12:30:00.5Z"; "+05:30" stays; "+05" → "+05:00".
std::string timestamp(std::string_view text, bool withZone) {
    std::string s(text);
    if (s.size() < 11 || s[10] != ' ' || s.find(" BC") != std::string::npos) return s;  // infinity, BC
    s[10] = 'T';
    if (!withZone) return s;
    std::size_t sign = s.find_last_of("+-");
    if (sign == std::string::npos || sign < 19) return s;
    std::string zone = s.substr(sign);
    if (zone == "+00" || zone == "+00:00") return s.substr(0, sign) + "Z";
    if (zone.size() == 3) return s + ":00";
    return s;
}

Json scalar(std::uint32_t oid, std::string_view text);

// Array literal: {1,2,NULL}, {"a b","c\"d"}, {{1,2},{3,4}}, optionally prefixed by "[1:2]=".
class ArrayParser {
  public:
    ArrayParser(std::string_view text, std::uint32_t element) : text_(text), element_(element) {}

    Json parse() {
        std::size_t eq = text_.find('=');
        if (!text_.empty() && text_[0] == '[' && eq != std::string_view::npos) pos_ = eq + 1;
        return array();
    }

  private:
    Json array() {
        Json out = Json::array();
        if (pos_ >= text_.size() || text_[pos_] != '{') return Json(std::string(text_));
        ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '}') {
            ++pos_;
            return out;
        }
        while (pos_ < text_.size()) {
            if (text_[pos_] == '{') {
                out.push(array());
            } else if (text_[pos_] == '"') {
                ++pos_;
                std::string item;
                while (pos_ < text_.size() && text_[pos_] != '"') {
                    if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
                    item += text_[pos_++];
                }
                ++pos_;  // closing quote
                out.push(scalar(element_, item));
            } else {
                std::size_t start = pos_;
                while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}') ++pos_;
                std::string_view item = text_.substr(start, pos_ - start);
                out.push(item == "NULL" ? Json(nullptr) : scalar(element_, item));
            }
            if (pos_ < text_.size() && text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < text_.size() && text_[pos_] == '}') ++pos_;
            break;
        }
        return out;
    }

    std::string_view text_;
    std::uint32_t element_;
    std::size_t pos_ = 0;
};

Json scalar(std::uint32_t oid, std::string_view text) {
    switch (oid) {
        case kBool:
            return Json(text == "t" || text == "true");
        case kInt2:
        case kInt4:
        case kInt8:
        case kOid:
            return integer(text);
        case kFloat4:
        case kFloat8:
            return floating(text);
        case kNumeric:
            return numeric(text);
        case kTimestamp:
            return Json(timestamp(text, false));
        case kTimestampTz:
            return Json(timestamp(text, true));
        case kJson:
        case kJsonb:
            try {
                return Json::parse(text);
            } catch (const JsonError&) {
                return Json(std::string(text));
            }
        default:
            break;
    }
    if (std::uint32_t element = elementType(oid)) return ArrayParser(text, element).parse();
    return Json(std::string(text));
}

void appendArrayLiteral(std::string& out, const Json& array) {
    out += '{';
    bool first = true;
    for (const Json& item : array.asArray()) {
        if (!first) out += ',';
        first = false;
        if (item.isNull()) {
            out += "NULL";
        } else if (item.isArray()) {
            appendArrayLiteral(out, item);
        } else {
            std::string text = *encodeParam(item);
            out += '"';
            for (char c : text) {
                if (c == '"' || c == '\\') out += '\\';
                out += c;
            }
            out += '"';
        }
    }
    out += '}';
}

}  // namespace

Json decodeCell(std::uint32_t typeOid, std::string_view text) {
    return scalar(typeOid, text);
}

std::optional<std::string> encodeParam(const Json& value) {
    switch (value.type()) {
        case Json::Type::Null:
            return std::nullopt;
        case Json::Type::Bool:
            return std::string(value.asBool() ? "true" : "false");
        case Json::Type::Int:
            return std::to_string(value.asInt());
        case Json::Type::Double: {
            double d = value.asDouble();
            if (std::isnan(d)) return std::string("NaN");
            if (std::isinf(d)) return std::string(d > 0 ? "Infinity" : "-Infinity");
            char buffer[32];  // the shortest text that reads back as the same double: 0.1, not 0.1000…01
            std::to_chars_result r = std::to_chars(buffer, buffer + sizeof buffer, d);
            return std::string(buffer, r.ptr);
        }
        case Json::Type::String:
            return value.asString();
        case Json::Type::Array: {
            std::string out;
            appendArrayLiteral(out, value);
            return out;
        }
        case Json::Type::Object:
            return value.dump();
    }
    return std::nullopt;
}

}  // namespace berth::server::pg
