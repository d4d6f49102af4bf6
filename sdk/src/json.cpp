#include "berth/json.h"

#include "json_escape.h"
#include "json_writer.h"

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
    // dumpTo reserved room for the worst case (6 bytes per string byte): give a large excess back.
    if (out.capacity() > 4096 && out.capacity() > 2 * out.size()) out.shrink_to_fit();
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
    std::size_t used = out.size();
    out.resize(used + internal::maxJsonLength(*this));
    char* end = internal::writeJson(out.data() + used, *this);
    out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace v1
}  // namespace berth

namespace berth::internal {
namespace {

template <std::size_t N>
char* put(char* out, const char (&text)[N]) noexcept {
    std::memcpy(out, text, N - 1);
    return out + N - 1;
}

}  // namespace

std::size_t maxJsonLength(const Json& value) noexcept {
    switch (value.type()) {
        case Json::Type::Null:
        case Json::Type::Bool:
            return 5;
        case Json::Type::Int:
            return 20;
        case Json::Type::Double:
            return 32;  // the shortest round-trip form is at most 24 characters, plus ".0"
        case Json::Type::String:
            return maxEscapedLength(value.asString().size());
        case Json::Type::Array: {
            std::size_t length = 2;
            for (const Json& item : value.asArray()) length += maxJsonLength(item) + 1;
            return length;
        }
        case Json::Type::Object: {
            std::size_t length = 2;
            for (const Json::Member& member : value.asObject())
                length += maxEscapedLength(member.first.size()) + 1 + maxJsonLength(member.second) + 1;
            return length;
        }
    }
    return 0;
}

char* writeJson(char* out, const Json& value) noexcept {
    switch (value.type()) {
        case Json::Type::Null:
            return put(out, "null");
        case Json::Type::Bool:
            return value.asBool() ? put(out, "true") : put(out, "false");
        case Json::Type::Int:
            return std::to_chars(out, out + 20, value.asInt()).ptr;
        case Json::Type::Double: {
            double d = value.asDouble();
            if (!std::isfinite(d)) return put(out, "null");
            char* end = std::to_chars(out, out + 30, d).ptr;
            // 1.0 is written "1.0", not "1", so that it parses back as a double, not an integer.
            if (std::find_if(out, end, [](char c) { return c == '.' || c == 'e'; }) == end)
                end = put(end, ".0");
            return end;
        }
        case Json::Type::String:
            return writeJsonString(out, value.asString());
        case Json::Type::Array: {
            *out++ = '[';
            bool first = true;
            for (const Json& item : value.asArray()) {
                if (!first) *out++ = ',';
                first = false;
                out = writeJson(out, item);
            }
            *out++ = ']';
            return out;
        }
        case Json::Type::Object: {
            *out++ = '{';
            bool first = true;
            for (const Json::Member& member : value.asObject()) {
                if (!first) *out++ = ',';
                first = false;
                out = writeJsonString(out, member.first);
                *out++ = ':';
                out = writeJson(out, member.second);
            }
            *out++ = '}';
            return out;
        }
    }
    return out;
}

}  // namespace berth::internal
