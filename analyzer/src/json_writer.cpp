// JSON string escaping for JsonWriter (see json_writer.hpp).
#include "json_writer.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace lockgraph::analysis {
namespace {

// How many bytes of a UTF-8 sequence start at s[i] and are valid so far, and how many it needs
// (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing past U+10FFFF).
struct Utf8Prefix {
  std::size_t valid = 0, needed = 1;
};

Utf8Prefix utf8_prefix(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  Utf8Prefix p;
  if (lead >= 0xC2 && lead <= 0xDF) {
    p.needed = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    p.needed = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    p.needed = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return p;  // not a lead byte: valid = 0
  }
  p.valid = 1;
  while (p.valid < p.needed && i + p.valid < s.size()) {
    const unsigned char b = byte(i + p.valid);
    const bool ok = p.valid == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) break;
    ++p.valid;
  }
  return p;
}

// Where the run of bytes from s[i] on that need nothing but a copy ends: at the first control
// character, quote, backslash or byte >= 0x80 (validated as UTF-8 by the caller), or at the end.
// Sixteen bytes per step: a report's strings are file paths and messages, and a large report's
// escaping was 8 instructions per byte one byte at a time.
std::size_t plain_run_end(std::string_view s, std::size_t i) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Compared as signed bytes, those >= 0x80 are negative: one compare finds them and the
    // control characters together.
    const __m128i stop =
        _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const unsigned mask = unsigned(_mm_movemask_epi8(stop));
    if (mask != 0) return i + std::size_t(__builtin_ctz(mask));
  }
#endif
  for (; i < s.size(); ++i) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
  }
  return i;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // Runs of bytes that need nothing are appended at once.
    const std::size_t plain = plain_run_end(s, i);
    out.append(s.data() + i, plain - i);
    i = plain;
    if (i == s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const Utf8Prefix p = utf8_prefix(s, i);
      if (p.valid == p.needed) {
        out.append(s.data() + i, p.needed);
      } else {
        out += "\xEF\xBF\xBD";  // U+FFFD for the invalid bytes (at least the one at i)
      }
      i += p.valid == 0 ? 1 : p.valid;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

}  // namespace lockgraph::analysis
