#pragma once
/// berth/json.h — the JSON value handlers return as data and request bodies parse into.
///
/// Berth's own type, so plugins never depend on the host's JSON library and the host can
/// write it straight into the reply buffer without building a second tree.
///
///     berth::Json task = berth::Json::object({{"id", 7}, {"tags", berth::Json::array({"a", "b"})}});
///     task["done"] = false;
///     std::string text = task.dump();  // {"id":7,"tags":["a","b"],"done":false}

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace berth {
inline namespace v1 {

/// Thrown for text that is not JSON and for asking a value for the wrong type.
class JsonError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
    ~JsonError() override;
};

class Json {
  public:
    using Array = std::vector<Json>;
    using Member = std::pair<std::string, Json>;
    /// Members keep their insertion order, so replies read the way the handler wrote them.
    using Object = std::vector<Member>;
    enum class Type { Null, Bool, Int, Double, String, Array, Object };

    Json() noexcept = default;
    Json(std::nullptr_t) noexcept {}
    Json(bool value) noexcept : value_(value) {}
    template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
    Json(I value) noexcept {
        // Unsigned values past INT64_MAX become doubles, as Json::parse stores them, not negatives.
        if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
            if (value > static_cast<I>(INT64_MAX)) {
                value_ = static_cast<double>(value);
                return;
            }
        }
        value_ = static_cast<std::int64_t>(value);
    }
    Json(double value) noexcept : value_(value) {}
    Json(const char* value) : value_(std::string(value)) {}
    Json(std::string value) noexcept : value_(std::move(value)) {}
    Json(std::string_view value) : value_(std::string(value)) {}
    Json(Array value) noexcept : value_(std::move(value)) {}
    Json(Object value) noexcept : value_(std::move(value)) {}

    static Json array(std::initializer_list<Json> items = {}) { return Json(Array(items)); }
    static Json object(std::initializer_list<Member> members = {}) { return Json(Object(members)); }

    /// Parses a whole JSON text; throws JsonError naming the offset of the first problem.
    static Json parse(std::string_view text);

    Type type() const noexcept { return static_cast<Type>(value_.index()); }
    bool isNull() const noexcept { return type() == Type::Null; }
    bool isBool() const noexcept { return type() == Type::Bool; }
    bool isInt() const noexcept { return type() == Type::Int; }
    bool isNumber() const noexcept { return type() == Type::Int || type() == Type::Double; }
    bool isString() const noexcept { return type() == Type::String; }
    bool isArray() const noexcept { return type() == Type::Array; }
    bool isObject() const noexcept { return type() == Type::Object; }

    /// Typed reads throw JsonError on a type mismatch; asInt accepts an integral double.
    bool asBool() const;
    std::int64_t asInt() const;
    double asDouble() const;
    const std::string& asString() const;
    const Array& asArray() const;
    Array& asArray();
    const Object& asObject() const;
    Object& asObject();

    /// Object member or nullptr when absent (or when this is not an object).
    const Json* find(std::string_view key) const noexcept;
    /// Object member, or a null value when absent.
    const Json& operator[](std::string_view key) const noexcept;
    /// Object member, inserted as null when absent; a null value becomes an object first.
    Json& operator[](std::string_view key);
    /// Array element; throws JsonError when out of range.
    const Json& at(std::size_t index) const;
    /// Elements of an array or members of an object; 0 otherwise.
    std::size_t size() const noexcept;

    /// Appends to an array (a null value becomes an array first).
    Json& push(Json item);
    /// Sets or replaces an object member and returns *this, for chaining.
    Json& set(std::string_view key, Json value);

    /// Compact JSON text. Non-finite doubles are written as null.
    std::string dump() const;
    void dumpTo(std::string& out) const;

    bool operator==(const Json& other) const noexcept { return value_ == other.value_; }
    bool operator!=(const Json& other) const noexcept { return !(*this == other); }

  private:
    std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> value_;
};

/// Appends `text` as a quoted, escaped JSON string.
void appendJsonString(std::string& out, std::string_view text);

}  // namespace v1
}  // namespace berth
