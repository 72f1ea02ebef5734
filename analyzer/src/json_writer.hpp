// Internal: JsonWriter — writes one JSON document straight into a string, pretty-printed with
// two-space indentation (one member or element per line; empty containers as {} and []). The
// serializer of the JSON and SARIF reports: a report of thousands of findings is written in one
// pass, without the tree of nodes a DOM library builds first (with nlohmann::json that tree cost
// 0.11 s of 0.64 s for a 10^7-event STD analysis with 4,380 findings, and 0.42 s for SARIF).
//
// Contract: calls must form a document (key() only directly inside an object, before each of its
// values); members come out in the order they are written. Strings are escaped as JSON requires
// (quote, backslash, control characters) and written as UTF-8; bytes that are not valid UTF-8
// (names from traced programs) become U+FFFD, one per maximal invalid subsequence, as
// nlohmann::json's dump() with error_handler_t::replace writes them.
// Cost: appends to the string; a small stack of open containers; no allocation per value.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace lockgraph::analysis {

// Appends `s` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(*out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  JsonWriter& key(std::string_view k) {
    next_item();
    append_json_string(out_, k);
    out_ += ": ";
    after_key_ = true;
    return *this;
  }

  JsonWriter& value(std::string_view s) {
    next_item();
    append_json_string(out_, s);
    return *this;
  }
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b) {
    next_item();
    out_ += b ? "true" : "false";
    return *this;
  }
  template <class Int>
    requires(std::is_integral_v<Int> && !std::is_same_v<Int, bool>)
  JsonWriter& value(Int n) {
    next_item();
    char digits[24];
    out_.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
    return *this;
  }
  JsonWriter& value(const std::vector<std::string>& strings) {
    begin_array();
    for (const std::string& s : strings) value(s);
    return end_array();
  }

  template <class T>
  JsonWriter& member(std::string_view k, const T& v) {
    return key(k).value(v);
  }

 private:
  JsonWriter& open(char bracket) {
    next_item();
    out_ += bracket;
    items_.push_back(0);
    return *this;
  }
  JsonWriter& close(char bracket) {
    const bool empty = items_.back() == 0;
    items_.pop_back();
    if (!empty) {
      out_ += '\n';
      indent();
    }
    out_ += bracket;
    if (items_.empty()) out_ += '\n';  // the document's end
    return *this;
  }
  // Before a value or key: a value right after its key stays on the key's line; anything else
  // starts a new line in its container.
  void next_item() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (items_.empty()) return;  // the document's root
    out_ += items_.back()++ == 0 ? "\n" : ",\n";
    indent();
  }
  void indent() { out_.append(2 * items_.size(), ' '); }

  std::string& out_;
  std::vector<std::uint32_t> items_;  // per open container: items written so far
  bool after_key_ = false;
};

}  // namespace lockgraph::analysis
