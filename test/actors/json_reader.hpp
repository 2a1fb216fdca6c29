#pragma once
// A strict JSON reader for tests (RFC 8259: no trailing commas, no comments,
// strings must be valid UTF-8 once unescaped). Throws std::runtime_error
// naming the offset of the first error.

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace troupe::test::json {

struct value;
using array = std::vector<value>;
using object = std::map<std::string, value>;

struct value {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>,
               std::shared_ptr<object>>
      v;
  [[nodiscard]] bool is_object() const { return v.index() == 5; }
  [[nodiscard]] bool is_array() const { return v.index() == 4; }
  [[nodiscard]] bool is_string() const { return v.index() == 3; }
  [[nodiscard]] bool is_number() const { return v.index() == 2; }
  [[nodiscard]] const object& obj() const { return *std::get<5>(v); }
  [[nodiscard]] const array& arr() const { return *std::get<4>(v); }
  [[nodiscard]] const std::string& str() const { return std::get<3>(v); }
  [[nodiscard]] double num() const { return std::get<2>(v); }
  [[nodiscard]] bool has(const std::string& k) const { return is_object() && obj().count(k) != 0; }
  [[nodiscard]] const value& operator[](const std::string& k) const {
    const auto& o = obj();
    auto it = o.find(k);
    if (it == o.end()) throw std::runtime_error("json: no key '" + k + "'");
    return it->second;
  }
};

class reader {
 public:
  explicit reader(std::string_view text) : s_(text) {}

  value document() {
    value v = parse_value();
    skip_ws();
    if (i_ != s_.size()) fail("text after the document");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("json: " + what + " at offset " + std::to_string(i_));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  char peek() {
    skip_ws();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  void literal(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) fail("bad literal");
    i_ += w.size();
  }

  value parse_value() {
    switch (peek()) {
      case '{':
        return parse_object();
      case '[':
        return parse_array();
      case '"':
        return value{parse_string()};
      case 't':
        literal("true");
        return value{true};
      case 'f':
        literal("false");
        return value{false};
      case 'n':
        literal("null");
        return value{nullptr};
      default:
        return value{parse_number()};
    }
  }

  value parse_object() {
    expect('{');
    auto o = std::make_shared<object>();
    if (peek() == '}') {
      ++i_;
      return value{o};
    }
    for (;;) {
      if (peek() != '"') fail("expected a key");
      std::string k = parse_string();
      expect(':');
      (*o)[k] = parse_value();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return value{o};
    }
  }

  value parse_array() {
    expect('[');
    auto a = std::make_shared<array>();
    if (peek() == ']') {
      ++i_;
      return value{a};
    }
    for (;;) {
      a->push_back(parse_value());
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(']');
      return value{a};
    }
  }

  double parse_number() {
    const std::size_t b = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    auto digits = [&] {
      const std::size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      if (i_ == d) fail("expected a digit");
    };
    digits();
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      digits();
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      digits();
    }
    return std::stod(std::string(s_.substr(b, i_ - b)));
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        break;
      }
      if (c < 0x20) fail("control character in a string");
      if (c == '\\') {
        if (++i_ >= s_.size()) fail("unterminated escape");
        const char e = s_[i_++];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            if (i_ + 4 > s_.size()) fail("short \\u escape");
            const auto cp =
                static_cast<std::uint32_t>(std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16));
            i_ += 4;
            put_utf8(out, cp);
            break;
          }
          default:
            fail("bad escape");
        }
        continue;
      }
      // Raw bytes: must be valid UTF-8.
      std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
      if ((c & 0xC0) == 0x80 || c > 0xF4 || c == 0xC0 || c == 0xC1 || i_ + n > s_.size())
        fail("invalid UTF-8");
      for (std::size_t k = 1; k < n; ++k) {
        if ((static_cast<unsigned char>(s_[i_ + k]) & 0xC0) != 0x80) fail("invalid UTF-8");
      }
      out.append(s_.substr(i_, n));
      i_ += n;
    }
    return out;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

inline value parse(std::string_view text) { return reader(text).document(); }

}  // namespace troupe::test::json
