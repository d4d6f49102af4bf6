#include "berth/json.h"

#include "json_escape.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace berth {
inline namespace v1 {

JsonError::~JsonError() = default;

namespace {

const char* typeName(Json::Type type) {
    switch (type) {
        case Json::Type::Null:
            return "null";
        case Json::Type::Bool:
            return "a boolean";
        case Json::Type::Int:
            return "an integer";
        case Json::Type::Double:
            return "a number";
        case Json::Type::String:
            return "a string";
        case Json::Type::Array:
            return "an array";
        case Json::Type::Object:
            return "an object";
    }
    return "unknown";
}

[[noreturn]] void wrongType(Json::Type actual, const char* wanted) {
    throw JsonError(std::string("JSON value is ") + typeName(actual) + ", not " + wanted);
}

const Json kNull;

}  // namespace

bool Json::asBool() const {
    if (auto* b = std::get_if<bool>(&value_)) return *b;
    wrongType(type(), "a boolean");
}

std::int64_t Json::asInt() const {
    if (auto* i = std::get_if<std::int64_t>(&value_)) return *i;
    if (auto* d = std::get_if<double>(&value_)) {
        if (std::trunc(*d) == *d && *d >= -9.2233720368547758e18 && *d < 9.2233720368547758e18)
            return static_cast<std::int64_t>(*d);
    }
    wrongType(type(), "an integer");
}

double Json::asDouble() const {
    if (auto* d = std::get_if<double>(&value_)) return *d;
    if (auto* i = std::get_if<std::int64_t>(&value_)) return static_cast<double>(*i);
    wrongType(type(), "a number");
}

const std::string& Json::asString() const {
    if (auto* s = std::get_if<std::string>(&value_)) return *s;
    wrongType(type(), "a string");
}

const Json::Array& Json::asArray() const {
    if (auto* a = std::get_if<Array>(&value_)) return *a;
    wrongType(type(), "an array");
}

Json::Array& Json::asArray() {
    if (auto* a = std::get_if<Array>(&value_)) return *a;
    wrongType(type(), "an array");
}

const Json::Object& Json::asObject() const {
    if (auto* o = std::get_if<Object>(&value_)) return *o;
    wrongType(type(), "an object");
}

Json::Object& Json::asObject() {
    if (auto* o = std::get_if<Object>(&value_)) return *o;
    wrongType(type(), "an object");
}

const Json* Json::find(std::string_view key) const noexcept {
    auto* object = std::get_if<Object>(&value_);
    if (object == nullptr) return nullptr;
    // Last one wins for duplicated keys, as in JavaScript's JSON.parse.
    for (auto it = object->rbegin(); it != object->rend(); ++it)
        if (it->first == key) return &it->second;
    return nullptr;
}

const Json& Json::operator[](std::string_view key) const noexcept {
    const Json* found = find(key);
    return found != nullptr ? *found : kNull;
}

Json& Json::operator[](std::string_view key) {
    if (isNull()) value_ = Object{};
    Object& object = asObject();
    for (auto it = object.rbegin(); it != object.rend(); ++it)
        if (it->first == key) return it->second;
    object.emplace_back(std::string(key), Json());
    return object.back().second;
}

const Json& Json::at(std::size_t index) const {
    const Array& array = asArray();
    if (index >= array.size())
        throw JsonError("JSON array index " + std::to_string(index) + " out of range (size " +
                        std::to_string(array.size()) + ")");
    return array[index];
}

std::size_t Json::size() const noexcept {
    if (auto* a = std::get_if<Array>(&value_)) return a->size();
    if (auto* o = std::get_if<Object>(&value_)) return o->size();
    return 0;
}

Json& Json::push(Json item) {
    if (isNull()) value_ = Array{};
    asArray().push_back(std::move(item));
    return *this;
}

Json& Json::set(std::string_view key, Json value) {
    (*this)[key] = std::move(value);
    return *this;
}

std::string Json::dump() const {
    std::string out;
    dumpTo(out);
    return out;
}

void appendJsonString(std::string& out, std::string_view text) {
    std::size_t used = out.size();
    // resize() zero-fills, which for short strings is cheaper than appending piece by piece.
    out.resize(used + internal::maxEscapedLength(text.size()));
    char* end = internal::writeJsonString(out.data() + used, text);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

void Json::dumpTo(std::string& out) const {
    switch (type()) {
        case Type::Null:
            out += "null";
            return;
        case Type::Bool:
            out += std::get<bool>(value_) ? "true" : "false";
            return;
        case Type::Int: {
            char buffer[24];
            auto result = std::to_chars(buffer, buffer + sizeof buffer, std::get<std::int64_t>(value_));
            out.append(buffer, result.ptr);
            return;
        }
        case Type::Double: {
            double d = std::get<double>(value_);
            if (!std::isfinite(d)) {
                out += "null";
                return;
            }
            char buffer[32];
            char* end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
            out.append(buffer, end);
            // 1.0 is written "1.0", not "1", so that it parses back as a double, not an integer.
            if (std::find_if(buffer, end, [](char c) { return c == '.' || c == 'e'; }) == end) out += ".0";
            return;
        }
        case Type::String:
            appendJsonString(out, std::get<std::string>(value_));
            return;
        case Type::Array: {
            out.push_back('[');
            bool first = true;
            for (const Json& item : std::get<Array>(value_)) {
                if (!first) out.push_back(',');
                first = false;
                item.dumpTo(out);
            }
            out.push_back(']');
            return;
        }
        case Type::Object: {
            out.push_back('{');
            bool first = true;
            for (const Member& member : std::get<Object>(value_)) {
                if (!first) out.push_back(',');
                first = false;
                appendJsonString(out, member.first);
                out.push_back(':');
                member.second.dumpTo(out);
            }
            out.push_back('}');
            return;
        }
    }
}

}  // namespace v1
}  // namespace berth
