// JsonWriter: the report's serializer against nlohmann::json (which wrote the reports before) as
// the oracle — the same escaping of every byte string, valid UTF-8 or not, and the same document
// layout for the same members in the same order.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "json_writer.hpp"
#include "lockgraph/analyzer/report.hpp"

namespace lockgraph::analysis {
namespace {

std::string oracle(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string escaped(const std::string& s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonWriter, EscapesLikeNlohmannWithReplacement) {
  // Every single byte, then the edges of UTF-8 (overlong forms, surrogates, past U+10FFFF, cut
  // sequences, stray continuation bytes), then random mixtures of them.
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    ASSERT_EQ(escaped(s), oracle(s)) << "byte " << b;
  }
  const std::vector<std::string> edges = {
      "plain ascii", "quote \" backslash \\ slash /", "\x7f del", "tab\tnl\ncr\rff\fbs\b",
      "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x92 lock", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",
      "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf4\x8f\xbf\xbf",
      "\xf5\x80\x80\x80", "\xe2\x82", "\xe2", "\xf0\x9f\x94", "\x80\x80", "\xe2\x28\xa1", "a\xf0\x28\x8c\xbcz",
      "\xef\xbf\xbd", std::string("nul\0inside", 10)};
  for (const std::string& s : edges) ASSERT_EQ(escaped(s), oracle(s)) << s;
  std::mt19937 rng(7);
  const std::string alphabet = "a\"\\\n\x01\x7f\x80\xbf\xc2\xc3\xdf\xe0\xe2\xed\xef\xf0\xf4\xf5\xff\xa0\x90\x8f\x9f";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 12, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(escaped(s), oracle(s)) << i;
  }
  // Longer strings, mostly plain, so that the bytes to escape fall at every position of the
  // 16-byte steps and in the tail after them.
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 70, 'x');
    for (char& c : s) {
      if (rng() % 12 == 0) c = alphabet[rng() % alphabet.size()];
    }
    ASSERT_EQ(escaped(s), oracle(s)) << i;
  }
}

TEST(JsonWriter, LaysOutDocumentsLikeNlohmannsIndentedDump) {
  std::string out;
  JsonWriter w(&out);
  w.begin_object().member("version", 1).key("empty_array").begin_array().end_array();
  w.key("empty_object").begin_object().end_object();
  w.key("items").begin_array();
  w.begin_object().member("name", "A \"quoted\"").member("count", std::uint64_t(18446744073709551615u)).member("ok", true);
  w.member("names", std::vector<std::string>{"x", "y"}).member("none", std::vector<std::string>{}).end_object();
  w.value(-42).value(false).value("tail");
  w.end_array().key("nested").begin_object().key("deeper").begin_object().member("line", 12u).end_object().end_object();
  w.end_object();

  nlohmann::ordered_json j;
  j["version"] = 1;
  j["empty_array"] = nlohmann::ordered_json::array();
  j["empty_object"] = nlohmann::ordered_json::object();
  nlohmann::ordered_json item;
  item["name"] = "A \"quoted\"";
  item["count"] = std::uint64_t(18446744073709551615u);
  item["ok"] = true;
  item["names"] = std::vector<std::string>{"x", "y"};
  item["none"] = nlohmann::ordered_json::array();
  j["items"] = nlohmann::ordered_json::array({item, -42, false, "tail"});
  j["nested"]["deeper"]["line"] = 12u;
  EXPECT_EQ(out, j.dump(2) + "\n");
}

// Counts the stream's writes: a report goes out in pieces while it is made, not as one string.
class CountingBuffer : public std::stringbuf {
 public:
  std::size_t writes = 0, largest = 0;

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    ++writes;
    largest = std::max(largest, static_cast<std::size_t>(n));
    return std::stringbuf::xsputn(s, n);
  }
};

TEST(Reports, JsonAndSarifOfManyFindingsAreStreamedWholeAndInOrder) {
  AnalysisResult result;
  for (int i = 0; i < 3000; ++i) {
    Finding f;
    f.kind = i % 2 ? "data_race" : "deadlock_potential";
    f.message = "finding " + std::to_string(i) + " " + std::string(200, 'm');
    f.locations.push_back(Location{});
    f.locations.back().file = "/src/file" + std::to_string(i) + ".cpp";
    f.locations.back().line = static_cast<std::uint32_t>(i + 1);
    assign_fingerprint(f);
    result.findings.push_back(std::move(f));
  }
  GateConfig config{default_fail_on(), {}, {}};
  const GateOutcome gate = apply_gate(result.findings, config);
  const RenderContext ctx{result, gate, 1, 2, false, ""};
  for (const bool sarif : {false, true}) {
    CountingBuffer buffer;
    std::ostream out(&buffer);
    sarif ? write_sarif(ctx, out) : write_json(ctx, out);
    const std::string text = buffer.str();
    EXPECT_GT(text.size(), std::size_t(1) << 20);
    EXPECT_GT(buffer.writes, 4u) << "written as one string";
    EXPECT_LT(buffer.largest, text.size() / 2);
    EXPECT_EQ(text, sarif ? render_sarif(ctx) : render_json(ctx));
    const auto j = nlohmann::json::parse(text);
    const auto& list = sarif ? j["runs"][0]["results"] : j["findings"];
    ASSERT_EQ(list.size(), result.findings.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string message = sarif ? list[i]["message"]["text"].get<std::string>() : list[i]["message"].get<std::string>();
      ASSERT_EQ(message.substr(0, result.findings[i].message.size()), result.findings[i].message) << i;
    }
  }
}

}  // namespace
}  // namespace lockgraph::analysis
