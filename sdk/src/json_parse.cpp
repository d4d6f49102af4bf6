// Json::parse on RapidJSON's SAX reader: measured at ~4,700 instructions for a 74-byte body
// against ~19,000 for Poco::JSON::Parser (../shared/HTTP-NOTES.md), and header-only, so it
// stays out of the SDK's public headers.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "berth/json.h"
#include "utf8.h"

namespace berth {
inline namespace v1 {
namespace {

// Deeper documents are refused: nobody sends them on purpose, and the recursive
// destructor and writer must not be able to overflow the stack.
constexpr std::size_t kMaxDepth = 512;

class TreeBuilder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TreeBuilder> {
  public:
    bool Null() { return add(Json()); }
    bool Bool(bool b) { return add(Json(b)); }
    // Numbers arrive as text (kParseNumbersAsStringsFlag) and are converted here: RapidJSON
    // 1.1's full-precision conversion has undefined behaviour (fuzzing found "0e308" read as
    // -6e-269), and its default one may be off in the last bits. from_chars rounds correctly.
    bool RawNumber(const char* s, rapidjson::SizeType length, bool) {
        const char* end = s + length;
        if (std::find_if(s, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end) {
            std::int64_t integer = 0;
            auto result = std::from_chars(s, end, integer);
            if (result.ec == std::errc() && result.ptr == end) return add(Json(integer));
        }
        double number = 0;
        auto result = std::from_chars(s, end, number);
        if (result.ec == std::errc::result_out_of_range) {
            // Underflow reads as zero or a denormal; overflow is refused below.
            number = std::strtod(std::string(s, length).c_str(), nullptr);
        } else if (result.ec != std::errc() || result.ptr != end) {
            return refuseNumber();
        }
        if (!std::isfinite(number)) return refuseNumber();
        return add(Json(number));
    }
    // RapidJSON 1.1 validates raw bytes but turns an escaped lone low surrogate ("\\udc00") into
    // invalid UTF-8; handlers must only ever see valid UTF-8, so decoded text is checked again.
    bool String(const char* s, rapidjson::SizeType length, bool) {
        if (!internal::isValidUtf8({s, length})) return invalidText();
        return add(Json(std::string(s, length)));
    }
    bool Key(const char* s, rapidjson::SizeType length, bool) {
        if (!internal::isValidUtf8({s, length})) return invalidText();
        keys_.back().assign(s, length);
        return true;
    }
    bool StartObject() { return open(Json(Json::Object{})); }
    bool EndObject(rapidjson::SizeType) { return close(); }
    bool StartArray() { return open(Json(Json::Array{})); }
    bool EndArray(rapidjson::SizeType) { return close(); }

    Json take() { return std::move(root_); }
    bool tooDeep() const { return tooDeep_; }
    bool badText() const { return badText_; }
    bool badNumber() const { return badNumber_; }

  private:
    bool invalidText() {
        badText_ = true;
        return false;
    }
    bool refuseNumber() {
        badNumber_ = true;
        return false;
    }
    bool open(Json container) {
        if (open_.size() >= kMaxDepth) {
            tooDeep_ = true;
            return false;
        }
        open_.push_back(std::move(container));
        keys_.emplace_back();
        return true;
    }
    bool close() {
        Json done = std::move(open_.back());
        open_.pop_back();
        keys_.pop_back();
        return add(std::move(done));
    }
    bool add(Json value) {
        if (open_.empty()) {
            root_ = std::move(value);
        } else if (open_.back().isArray()) {
            open_.back().asArray().push_back(std::move(value));
        } else {
            open_.back().asObject().emplace_back(std::move(keys_.back()), std::move(value));
        }
        return true;
    }

    std::vector<Json> open_;
    std::vector<std::string> keys_;
    Json root_;
    bool tooDeep_ = false;
    bool badText_ = false;
    bool badNumber_ = false;
};

}  // namespace

Json Json::parse(std::string_view text) {
    // RapidJSON's memory stream reports NUL as the end of input; refuse one outright.
    if (std::memchr(text.data(), '\0', text.size()) != nullptr) throw JsonError("invalid JSON: NUL byte");
    rapidjson::MemoryStream stream(text.data(), text.size());
    TreeBuilder builder;
    rapidjson::Reader reader;
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseNumbersAsStringsFlag;
    rapidjson::ParseResult result = reader.Parse<kFlags>(stream, builder);
    if (!result) {
        if (builder.badText()) throw JsonError("invalid JSON: a string escapes a lone UTF-16 surrogate");
        if (builder.badNumber())
            throw JsonError("invalid JSON at offset " + std::to_string(result.Offset()) +
                            ": number too large for a double");
        if (builder.tooDeep())
            throw JsonError("invalid JSON: nested deeper than " + std::to_string(kMaxDepth) + " levels");
        throw JsonError(std::string("invalid JSON at offset ") + std::to_string(result.Offset()) + ": " +
                        rapidjson::GetParseError_En(result.Code()));
    }
    return builder.take();
}

}  // namespace v1
}  // namespace berth
