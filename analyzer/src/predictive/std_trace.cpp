// Reading and writing RAPID's STD format (see std_trace.hpp).
#include "lockgraph/analyzer/std_trace.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <thread>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <ostream>

#include "../event_pipeline.hpp"


namespace lockgraph::analysis {
namespace {

enum Table { kThreads, kLocks, kVariables, kLocations };  // StdTrace::index_, in this order

// Names are short ("T3", "V4031", "113"): the intern table keeps each name's first 8 bytes and
// length in its slot, so most lookups are one hash, one probe and one 64-bit compare.
std::uint64_t prefix_word(std::string_view s) {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < s.size() && i < 8; ++i) w |= std::uint64_t(static_cast<unsigned char>(s[i])) << (8 * i);
  return w;
}

// The same, reading 8 bytes at once when the buffer has them (the parser's fast path).
std::uint64_t prefix_word(std::string_view s, const char* buffer_end) {
  if (s.empty()) return 0;
  if (buffer_end - s.data() < 8) return prefix_word(s);
  std::uint64_t w;
  std::memcpy(&w, s.data(), 8);
  return s.size() >= 8 ? w : w & ((std::uint64_t(1) << (8 * s.size())) - 1);
}

std::uint32_t hash_of(std::uint64_t word, std::string_view s) {
  // Fibonacci hashing (Knuth, TAOCP 6.4): the product's high half depends on every input bit,
  // and names differ in their last characters.
  std::uint64_t h = word ^ (std::uint64_t(s.size()) << 56);
  for (std::size_t i = 8; i < s.size(); ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 0x100000001b3ull;
  return static_cast<std::uint32_t>((h * 0x9E3779B97F4A7C15ull) >> 32);
}

}  // namespace

std::string_view std_op_name(StdOp op) {
  switch (op) {
    case StdOp::kAcquire: return "acq";
    case StdOp::kRelease: return "rel";
    case StdOp::kRead: return "r";
    case StdOp::kWrite: return "w";
    case StdOp::kFork: return "fork";
    case StdOp::kJoin: return "join";
    case StdOp::kBegin: return "begin";
    case StdOp::kEnd: return "end";
  }
  return "?";
}

std::vector<std::string>& StdTrace::names_of(int table) {
  return table == kThreads ? threads : table == kLocks ? locks : table == kVariables ? variables : locations;
}

std::uint32_t StdTrace::intern(int table, std::string_view name) { return intern(table, name, prefix_word(name)); }

std::uint32_t StdTrace::intern(int table, std::string_view name, std::uint64_t w) {
  std::vector<std::string>& list = names_of(table);
  std::vector<InternSlot>& slots = index_[static_cast<std::size_t>(table)];
  if (slots.size() < 2 * (list.size() + 1)) {
    std::size_t size = 64;  // a power of two: probing masks with size - 1
    while (size < 2 * (list.size() + 1)) size *= 2;  // load factor 1/4 to 1/2: the table stays in cache
    std::vector<InternSlot> bigger(size);
    for (std::uint32_t id = 0; id < list.size(); ++id) {
      std::uint64_t known = prefix_word(list[id]);
      std::size_t i = hash_of(known, list[id]) & (size - 1);
      while (bigger[i].id1 != 0) i = (i + 1) & (size - 1);
      bigger[i] = InternSlot{known, id + 1, static_cast<std::uint32_t>(list[id].size())};
    }
    slots.swap(bigger);
  }
  const std::size_t mask = slots.size() - 1;
  for (std::size_t i = hash_of(w, name) & mask;; i = (i + 1) & mask) {
    const InternSlot& slot = slots[i];
    if (slot.id1 == 0) {
      list.emplace_back(name);
      slots[i] = InternSlot{w, static_cast<std::uint32_t>(list.size()), static_cast<std::uint32_t>(name.size())};
      return static_cast<std::uint32_t>(list.size() - 1);
    }
    if (slot.word == w && slot.size == name.size() &&
        (name.size() <= 8 || std::memcmp(list[slot.id1 - 1].data() + 8, name.data() + 8, name.size() - 8) == 0)) {
      return slot.id1 - 1;
    }
  }
}

std::uint32_t StdTrace::thread_id(std::string_view n) { return intern(kThreads, n); }
std::uint32_t StdTrace::lock_id(std::string_view n) { return intern(kLocks, n); }
std::uint32_t StdTrace::variable_id(std::string_view n) { return intern(kVariables, n); }
std::uint32_t StdTrace::location_id(std::string_view n) { return intern(kLocations, n); }

std::uint32_t StdTrace::intern_numbered(int table, std::string_view name, std::size_t prefix_len, std::uint32_t number,
                                        const char* buffer_end) {
  NumericCache& c = numeric_[static_cast<std::size_t>(table)];
  const std::uint64_t prefix = prefix_word(name.substr(0, prefix_len), buffer_end);
  if (c.prefix_len != prefix_len || c.prefix != prefix) {
    if (c.prefix_len != ~0u) return intern(table, name, prefix_word(name, buffer_end));  // another prefix
    c.prefix_len = static_cast<std::uint32_t>(prefix_len);
    c.prefix = prefix;
    c.prefix_mask = prefix_len >= 8 ? ~std::uint64_t(0) : (std::uint64_t(1) << (8 * prefix_len)) - 1;
  }
  if (number < c.id1.size() && c.id1[number] != 0) return c.id1[number] - 1;
  const std::uint32_t id = intern(table, name, prefix_word(name, buffer_end));
  if (number >= c.id1.size()) {
    // Numbers far beyond the table's size are left to the hash: the cache stays dense.
    if (number > 4 * names_of(table).size() + 65536) return id;
    c.id1.resize(std::max<std::size_t>(std::size_t(number) + 1, 2 * c.id1.size()), 0);
  }
  c.id1[number] = id + 1;
  return id;
}

namespace {

// Events per batch handed to the sink: 256 KiB. With 1 MiB batches the hand-off queue's buffers
// (six in use at once) cost ~800 more first-touch page faults per run (2,838 against 2,063 for
// a 10^6-line hb analysis, 0.087 -> 0.079 s median of 8 on the project's VM; the same at 10^7).
constexpr std::size_t kBatch = 16 * 1024;

// A name inside a line, [begin, end), with its trailing decimal number when it has a canonical one
// of 1 to 9 digits ("V4031", "T3", "113"; not "V07", not "x").
struct NameField {
  std::string_view name;
  std::size_t prefix_len = 0;
  std::uint32_t number = 0;
  bool numbered = false;
};

// The value of up to 8 decimal digits, one per byte (0..9), in the top bytes of `digits`, with
// zero bytes below them as leading zeros (little endian: the field's last character is the top
// byte). Pairs, then quadruples, then all eight, with three multiplications (SWAR; the method of
// D. Lemire, "Quickly parsing eight digits", 2022).
inline std::uint32_t eight_digits_value(std::uint64_t digits) {
  digits = digits * 10 + (digits >> 8);                                              // 2-digit lanes
  digits = ((digits & 0x00FF00FF00FF00FFull) * (1 + (std::uint64_t(100) << 16))) >> 16;  // 4-digit lanes
  digits = ((digits & 0x0000FFFF0000FFFFull) * (1 + (std::uint64_t(10000) << 32))) >> 32;
  return static_cast<std::uint32_t>(digits);
}

// Slow but general: a name whose last 8 bytes cannot be read at once.
inline NameField name_field_bytewise(const char* begin, const char* end) {
  NameField f;
  f.name = std::string_view(begin, static_cast<std::size_t>(end - begin));
  const char* d = end;
  std::uint32_t number = 0, scale = 1;
  while (d > begin && end - d < 9 && static_cast<unsigned char>(d[-1]) - unsigned('0') < 10u) {
    --d;
    number += (static_cast<unsigned char>(*d) - unsigned('0')) * scale;
    scale *= 10;
  }
  const bool more_digits = d > begin && static_cast<unsigned char>(d[-1]) - unsigned('0') < 10u;
  f.numbered = d < end && !more_digits && (end - d == 1 || *d != '0') && d - begin <= 8;
  f.prefix_len = static_cast<std::size_t>(d - begin);
  f.number = number;
  return f;
}

// A field of a fast-path line: the byte before `begin` is a delimiter (or a line end), so the
// trailing digits found in the 8 bytes before `end` are all the field's own.
[[gnu::always_inline]] inline NameField name_field(const char* buffer_begin, const char* begin, const char* end) {
  if (end - buffer_begin < 8) return name_field_bytewise(begin, end);
  std::uint64_t w;
  std::memcpy(&w, end - 8, 8);
  const std::uint64_t d = w ^ 0x3030303030303030ull;  // a digit becomes its value, 0..9
  // High bit of each byte set where it is not a digit (no carries across bytes: each sum < 0x100).
  const std::uint64_t not_digit = (((d & 0x7F7F7F7F7F7F7F7Full) + 0x7676767676767676ull) | d) & 0x8080808080808080ull;
  if (not_digit == 0) return name_field_bytewise(begin, end);  // 8 or more digits
  const unsigned ndigits = static_cast<unsigned>(__builtin_clzll(not_digit)) / 8;
  NameField f;
  f.name = std::string_view(begin, static_cast<std::size_t>(end - begin));
  f.prefix_len = f.name.size() - ndigits;
  f.numbered = ndigits != 0 && (ndigits == 1 || end[-static_cast<std::ptrdiff_t>(ndigits)] != '0') && f.prefix_len <= 8;
  f.number = ndigits == 0 ? 0 : eight_digits_value(d & (~std::uint64_t(0) << (8 * (8 - ndigits))));
  return f;
}

#if defined(__SSE2__)
// Bit i set where p[i] == c, for the 32 bytes at p.
inline std::uint32_t byte_mask(__m128i lo, __m128i hi, char c) {
  const __m128i v = _mm_set1_epi8(c);
  return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(lo, v))) |
         static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(hi, v))) << 16;
}
// Bit i set where byte i of v is a decimal digit: byte - '0', unsigned, is at most 9.
inline std::uint32_t digit_mask(__m128i v) {
  const __m128i offset = _mm_sub_epi8(v, _mm_set1_epi8('0'));
  return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(offset, _mm_set1_epi8(9)), offset)));
}
#endif

}  // namespace

// One pass over the text: a fast path for well-formed lines (one scan per field, numbered names
// from the numeric cache) and, for anything else, the general line parser, which also owns every
// error message.
class StdLineParser {
 public:
  StdLineParser(StdTrace& t, std::string_view buffer)
      : t_(t), buffer_begin_(buffer.data()), buffer_end_(buffer.data() + buffer.size()) {}

  // Parses the well-formed line at p into *e and returns the next line's start, or nullptr to
  // leave the line to parse_general(). A line of up to 31 bytes is classified in one step: where
  // its '|', '(', ')' and newline are (SSE2 compares over 32 bytes), then the verb by length.
  // Lines in the buffer's first 8 and last 40 bytes go the general way: every 8-byte load of a
  // field (from 8 bytes before its end to 8 bytes after its start) is then inside the buffer, and
  // the byte before the line is its predecessor's newline.
  [[gnu::always_inline]] const char* parse_fast(const char* p, StdEvent* e) {
#if defined(__SSE2__)
    if (buffer_end_ - p < 40 || p - buffer_begin_ < 8) return nullptr;
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    const std::uint32_t nl_mask = byte_mask(lo, hi, '\n');
    if (nl_mask == 0) return nullptr;  // a longer line
    const unsigned nl = static_cast<unsigned>(__builtin_ctz(nl_mask));
    const std::uint32_t in_line = (std::uint32_t(1) << nl) - 1;
    std::uint32_t bars = byte_mask(lo, hi, '|') & in_line;
    const std::uint32_t opens = byte_mask(lo, hi, '(') & in_line, closes = byte_mask(lo, hi, ')') & in_line;
    if (bars == 0 || nl == 0 || p[nl - 1] == '\r') return nullptr;
    const unsigned bar0 = static_cast<unsigned>(__builtin_ctz(bars));
    bars &= bars - 1;
    if (bars & (bars - 1)) return nullptr;  // a third '|': the location has one
    const unsigned bar1 = bars ? static_cast<unsigned>(__builtin_ctz(bars)) : nl;  // no location: empty
    if (bar0 == 0 || p[0] == '#') return nullptr;  // no thread; a comment
    const char* op = p + bar0 + 1;
    const unsigned op_len = bar1 - bar0 - 1;
    int table = -1;
    StdOp kind = StdOp::kRead;
    unsigned verb_len = op_len;
    if (opens != 0) {
      // Exactly one '(' and one ')', the ')' ending the operation and the argument not empty.
      const unsigned open = static_cast<unsigned>(__builtin_ctz(opens));
      if ((opens & (opens - 1)) != 0 || closes != (std::uint32_t(1) << (bar1 - 1)) || open <= bar0 ||
          open + 2 >= bar1) {
        return nullptr;
      }
      verb_len = open - bar0 - 1;
    } else if (closes != 0) {
      return nullptr;
    }
    switch (verb_len) {
      case 1:
        if (op[0] == 'r') kind = StdOp::kRead, table = kVariables;
        else if (op[0] == 'w') kind = StdOp::kWrite, table = kVariables;
        else return nullptr;
        break;
      case 3:
        if (std::memcmp(op, "acq", 3) == 0) kind = StdOp::kAcquire, table = kLocks;
        else if (std::memcmp(op, "rel", 3) == 0) kind = StdOp::kRelease, table = kLocks;
        else if (std::memcmp(op, "end", 3) == 0) kind = StdOp::kEnd;
        else return nullptr;
        break;
      case 4:
        if (std::memcmp(op, "fork", 4) == 0) kind = StdOp::kFork, table = kThreads;
        else if (std::memcmp(op, "join", 4) == 0) kind = StdOp::kJoin, table = kThreads;
        else return nullptr;
        break;
      case 5:
        if (std::memcmp(op, "begin", 5) != 0) return nullptr;
        kind = StdOp::kBegin;
        break;
      default:
        return nullptr;
    }
    if ((table >= 0) != (opens != 0)) return nullptr;  // acq without an argument, begin with one
    // The whole line is valid: only now are its names interned (thread before target, as the
    // general parser does, so ids come out the same either way).
    e->op = kind;
    const Digits digits{digit_mask(lo) | digit_mask(hi) << 16, byte_mask(lo, hi, '0')};
    e->thread = id(kThreads, p, 0, bar0, digits);
    e->target = table >= 0 ? id(table, p, bar0 + verb_len + 2, bar1 - 1, digits) : 0;
    e->location = id(kLocations, p, std::min(bar1 + 1, nl), nl, digits);
    return p + nl + 1;
#else
    (void)p, (void)e;
    return nullptr;  // the general parser does it all
#endif
  }

  enum class Line { kEvent, kSkip, kError };
  // Any line: comments, blank lines, CR LF, unusual names, and every malformed line.
  Line parse_general(std::string_view line, StdEvent* e, std::string* error) {
    if (line.empty() || line[0] == '#') return Line::kSkip;
    const char* line_start = line.data();
    const char* eol = line_start + line.size();
    const char* bar0 = static_cast<const char*>(std::memchr(line_start, '|', line.size()));
    if (bar0 == nullptr || bar0 == line_start) {
      *error = "expected THREAD|OP|LOCATION, got '" + std::string(line.substr(0, 60)) + "'";
      return Line::kError;
    }
    const char* bar1 = static_cast<const char*>(std::memchr(bar0 + 1, '|', static_cast<std::size_t>(eol - bar0 - 1)));
    const char* op_end = bar1 ? bar1 : eol;
    std::string_view thread(line_start, static_cast<std::size_t>(bar0 - line_start));
    std::string_view op(bar0 + 1, static_cast<std::size_t>(op_end - bar0 - 1));
    std::string_view loc = op_end < eol ? std::string_view(op_end + 1, static_cast<std::size_t>(eol - op_end - 1)) : std::string_view();
    if (op.empty()) {
      *error = "missing operation in '" + std::string(line.substr(0, 60)) + "'";
      return Line::kError;
    }
    std::size_t open = op.find('(');
    std::string_view verb = op.substr(0, open);
    std::string_view arg;
    if (open != std::string_view::npos) {
      if (op.back() != ')' || op.size() < open + 3) {
        *error = "malformed operation '" + std::string(op) + "' (expected e.g. acq(L1))";
        return Line::kError;
      }
      arg = op.substr(open + 1, op.size() - open - 2);
    }
    int table = -1;
    bool ok = false;
    if (verb == "r") e->op = StdOp::kRead, table = kVariables;
    else if (verb == "w") e->op = StdOp::kWrite, table = kVariables;
    else if (verb == "acq") e->op = StdOp::kAcquire, table = kLocks;
    else if (verb == "rel") e->op = StdOp::kRelease, table = kLocks;
    else if (verb == "fork") e->op = StdOp::kFork, table = kThreads;
    else if (verb == "join") e->op = StdOp::kJoin, table = kThreads;
    else if (verb == "begin" && arg.empty()) e->op = StdOp::kBegin, ok = true;
    else if (verb == "end" && arg.empty()) e->op = StdOp::kEnd, ok = true;
    if (table >= 0) ok = !arg.empty();
    if (!ok) {
      *error = "unknown operation '" + std::string(op) + "' (STD has acq(L), rel(L), r(V), w(V), fork(T), join(T), begin, end)";
      return Line::kError;
    }
    e->thread = t_.intern(kThreads, thread, prefix_word(thread, buffer_end_));
    e->location = t_.intern(kLocations, loc, prefix_word(loc, buffer_end_));
    e->target = table >= 0 ? t_.intern(table, arg, prefix_word(arg, buffer_end_)) : 0;
    return Line::kEvent;
  }

 private:
  // Where the line's decimal digits and its '0' characters are (bit i: byte i of the line).
  struct Digits {
    std::uint32_t any, zeros;
  };
  // The id of the fast path's field, bytes [b, e) of the line at p (e < 32; the byte before the
  // field a delimiter). Names of up to 7 bytes (every name of a generated trace) are found by
  // their bytes: one load, a mask and one probe of the short-name cache; the others, and the
  // short ones it misses, through numbered_id().
  [[gnu::always_inline]] std::uint32_t id(int table, const char* p, unsigned b, unsigned e, Digits digits) {
    const unsigned len = e - b;
    std::uint64_t key = 0;
    if (len - 1 < 7) {
      std::memcpy(&key, p + b, 8);
      key = (key & ((std::uint64_t(1) << (8 * len)) - 1)) | (std::uint64_t(len) << 56);
      const StdTrace::ShortNameCache& s = t_.short_names_[static_cast<std::size_t>(table)];
      if (s.shift < 64) {
        const StdTrace::ShortNameCache::Slot& slot = s.slots[(key * 0x9E3779B97F4A7C15ull) >> s.shift];
        if (slot.key == key) return slot.id;
      }
    }
    const std::uint32_t found = numbered_id(table, p, b, e, digits);
    if (key != 0) remember_short(table, key, found);
    return found;
  }

  // A short name's id for the next lookups, in its slot (a name that shares it takes it over:
  // with four slots per name few do, and a probe without a loop costs less than linear probing's
  // — 523 against 539 M instructions for the 10^6-line hb run). The table grows as names come
  // and starts afresh: the names come back through the misses.
  [[gnu::noinline]] void remember_short(int table, std::uint64_t key, std::uint32_t id) {
    StdTrace::ShortNameCache& s = t_.short_names_[static_cast<std::size_t>(table)];
    const std::size_t want = 4 * (t_.names_of(table).size() + 1);
    if (s.slots.size() < want) {
      std::size_t size = 64;
      unsigned bits = 6;
      while (size < want) size *= 2, ++bits;
      s.slots.assign(size, StdTrace::ShortNameCache::Slot{});
      s.shift = 64 - bits;
    }
    s.slots[(key * 0x9E3779B97F4A7C15ull) >> s.shift] = StdTrace::ShortNameCache::Slot{key, id};
  }

  // The numeric cache's path of id(). A name "<prefix><number>" with the table's cached prefix
  // and a number the cache holds takes the digits' places from the line's masks (a field with a
  // prefix has a non-digit below its digits), its value from one 8-byte load, its prefix from one
  // 8-byte load compared under the cache's mask, and one table load. Any other name (new, another
  // prefix, leading zeros, 9 or more digits, all digits at the line's start) goes through
  // id_of_field().
  [[gnu::always_inline]] std::uint32_t numbered_id(int table, const char* p, unsigned b, unsigned e, Digits digits) {
    const StdTrace::NumericCache& c = t_.numeric_[static_cast<std::size_t>(table)];
    if (const std::uint32_t non_digits = ~digits.any & ((std::uint32_t(1) << e) - 1); non_digits != 0) {
      const unsigned first_digit = 32 - static_cast<unsigned>(__builtin_clz(non_digits));  // after the last non-digit
      const unsigned ndigits = e - first_digit;
      if (ndigits - 1 < 8 && first_digit - b == c.prefix_len && (ndigits == 1 || ((digits.zeros >> first_digit) & 1) == 0)) {
        std::uint64_t last8, first8;
        std::memcpy(&last8, p + e - 8, 8);
        std::memcpy(&first8, p + b, 8);
        const std::uint64_t values = (last8 ^ 0x3030303030303030ull) & (~std::uint64_t(0) << (8 * (8 - ndigits)));
        const std::uint32_t number = eight_digits_value(values);
        if ((first8 & c.prefix_mask) == c.prefix && number < c.id1.size()) {
          if (const std::uint32_t id1 = c.id1[number]; id1 != 0) return id1 - 1;
        }
      }
    }
    return id_of_field(table, name_field(buffer_begin_, p + b, p + e));
  }

  // numbered_id() already looked in the numeric cache; intern_numbered() fills it (and looks once
  // more, for the names that path leaves out).
  std::uint32_t id_of_field(int table, const NameField& f) {
    if (f.numbered) return t_.intern_numbered(table, f.name, f.prefix_len, f.number, buffer_end_);
    return t_.intern(table, f.name, prefix_word(f.name, buffer_end_));
  }

  StdTrace& t_;
  const char* buffer_begin_;
  const char* buffer_end_;
};

bool StdTrace::parse(std::string_view text, const std::string& name, StdTrace* out, Problem* problem) {
  out->events.reserve(out->events.size() + text.size() / 16);
  return parse_text(text, name, out, problem, nullptr, nullptr, &out->events);
}

bool StdTrace::parse_text(std::string_view text, const std::string& name, StdTrace* names, Problem* problem,
                          const BatchSink& sink, std::uint64_t* lines, std::vector<StdEvent>* into) {
  StdLineParser parser(*names, text);
  // Without `into`, events go to the sink in batches of one buffer per thread, kept: a fresh
  // megabyte would cost its page faults at every call.
  static thread_local std::vector<StdEvent> batch;
  std::vector<StdEvent>& out = into != nullptr ? *into : batch;
  if (into == nullptr) {
    batch.clear();
    batch.reserve(kBatch);
  }
  const char* p = text.data();
  const char* end = p + text.size();
  auto flush = [&] {
    if (into == nullptr && !batch.empty()) sink(batch.data(), batch.size());
    if (into == nullptr) batch.clear();
  };
  std::uint64_t line_no = 0;
  std::string error;
  StdEvent e;
  while (p < end) {
    ++line_no;
    if (const char* next = parser.parse_fast(p, &e)) {
      p = next;
    } else {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      const char* eol = nl ? nl : end;
      std::string_view line(p, static_cast<std::size_t>(eol - p));
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      p = nl ? nl + 1 : end;
      const auto kind = parser.parse_general(line, &e, &error);
      if (kind == StdLineParser::Line::kSkip) continue;
      if (kind == StdLineParser::Line::kError) {
        flush();  // every event before the damage
        problem->file = name;
        problem->offset = line_no;
        problem->line = true;
        problem->reason = error;
        return false;
      }
    }
    out.push_back(e);
    if (into == nullptr && out.size() == kBatch) flush();
  }
  flush();
  if (lines != nullptr) *lines = line_no;
  return true;
}

namespace {

// One slice of the text parsed on a worker: its events carry the slice's own name ids.
struct ParsedSlice {
  StdTrace local;  // names in the order the slice first used them, and the events
  Problem problem;
  bool ok = false;
  std::uint64_t lines = 0;
};

// Where the slices of `text` begin: every `slice_bytes`, moved forward to the next line's start.
std::vector<std::size_t> slice_starts(std::string_view text, std::size_t slice_bytes) {
  std::vector<std::size_t> starts{0};
  std::size_t at = 0;
  while (text.size() - at > slice_bytes) {
    const std::size_t nl = text.find('\n', at + slice_bytes);
    if (nl == std::string_view::npos || nl + 1 >= text.size()) break;
    at = nl + 1;
    starts.push_back(at);
  }
  return starts;
}

}  // namespace

unsigned StdTrace::default_workers() {
  // The consumer (the analysis) keeps a core of its own: on two cores one parser thread, the
  // pipelined reader; slicing pays off from three.
  const unsigned cores = std::thread::hardware_concurrency();
  return std::clamp(cores > 1 ? cores - 1 : 1u, 1u, 8u);
}

bool StdTrace::parse_text_parallel(std::string_view text, const std::string& name, StdTrace* names, Problem* problem,
                                   const BatchSink& sink, const ParallelOptions& options) {
  const std::vector<std::size_t> starts = slice_starts(text, std::max<std::size_t>(options.slice_bytes, 1));
  auto slice_text = [&](std::size_t i) {
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : text.size();
    return text.substr(starts[i], end - starts[i]);
  };
  const unsigned workers = std::max(options.workers, 1u);
  std::uint64_t lines_before = 0;
  const char* released = text.data();  // page-aligned when options.mapped
  bool ok = true;
  std::array<std::vector<std::uint32_t>, 4> to_global;
  // The slices' event arrays are used again: fresh ones would cost a page fault per 256 events.
  std::mutex spare_mu;
  std::vector<std::vector<StdEvent>> spare;
  run_ordered<ParsedSlice>(
      starts.size(), workers, 2 * std::size_t(workers),
      [&](std::size_t i) {
        ParsedSlice s;
        {
          std::lock_guard<std::mutex> lock(spare_mu);
          if (!spare.empty()) {
            s.local.events = std::move(spare.back());
            spare.pop_back();
          }
        }
        s.local.events.clear();
        s.local.events.reserve(slice_text(i).size() / 12);  // lines are rarely shorter
        s.ok = parse_text(slice_text(i), name, &s.local, &s.problem, nullptr, &s.lines, &s.local.events);
        return s;
      },
      [&](std::size_t i, ParsedSlice& s) {
        // The slice's names, in the order it first used them, are new to the whole text in that
        // order too, so the ids come out as a single pass gives them.
        for (int table = kThreads; table <= kLocations; ++table) {
          std::vector<std::string>& local_names = s.local.names_of(table);
          std::vector<std::uint32_t>& map = to_global[static_cast<std::size_t>(table)];
          map.resize(local_names.size());
          for (std::size_t k = 0; k < local_names.size(); ++k) map[k] = names->intern(table, local_names[k]);
        }
        for (StdEvent& e : s.local.events) {
          e.thread = to_global[kThreads][e.thread];
          e.location = to_global[kLocations][e.location];
          switch (e.op) {
            case StdOp::kAcquire:
            case StdOp::kRelease: e.target = to_global[kLocks][e.target]; break;
            case StdOp::kRead:
            case StdOp::kWrite: e.target = to_global[kVariables][e.target]; break;
            case StdOp::kFork:
            case StdOp::kJoin: e.target = to_global[kThreads][e.target]; break;
            case StdOp::kBegin:
            case StdOp::kEnd: break;
          }
        }
        for (std::size_t at = 0; at < s.local.events.size(); at += kBatch) {
          sink(s.local.events.data() + at, std::min(kBatch, s.local.events.size() - at));
        }
        {
          std::lock_guard<std::mutex> lock(spare_mu);
          spare.push_back(std::move(s.local.events));
        }
        if (!s.ok) {
          *problem = s.problem;
          problem->offset += lines_before;
          ok = false;
          return false;
        }
        lines_before += s.lines;
        if (options.mapped) {
          // Every page before this slice's last one is parsed: those go back to the page cache, so
          // memory stays bounded by the name tables, not by the trace.
          const char* done = text.data() + ((starts[i] + slice_text(i).size()) & ~std::size_t(4095));
          if (done > released) {
            ::madvise(const_cast<char*>(released), static_cast<std::size_t>(done - released), MADV_DONTNEED);
            released = done;
          }
        }
        return true;
      });
  return ok;
}

bool StdTrace::parse_file(const std::string& path, StdTrace* out, Problem* problem) {
  return parse_file_batches(path, out, problem,
                            [out](const StdEvent* e, std::size_t n) { out->events.insert(out->events.end(), e, e + n); });
}

bool StdTrace::parse_file_stream(const std::string& path, StdTrace* names, Problem* problem, const EventSink& sink) {
  return parse_file_batches(path, names, problem, [&sink](const StdEvent* e, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) sink(e[i]);
  });
}

bool StdTrace::parse_file_batches(const std::string& path, StdTrace* names, Problem* problem, const BatchSink& sink,
                                  unsigned workers, const BatchSink& ahead) {
  // With `ahead`, each batch goes to it and then on.
  auto through_ahead = [&ahead](const BatchSink& next) -> BatchSink {
    if (!ahead) return next;
    return [&ahead, next](const StdEvent* e, std::size_t n) {
      ahead(e, n);
      next(e, n);
    };
  };
  problem->file = path;
  problem->line = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    problem->reason = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    problem->reason = "not a regular file";
    return false;
  }
  if (st.st_size == 0) {
    ::close(fd);
    problem->reason = "empty STD trace";
    return false;
  }
  // Past a few MiB the file is parsed ahead of the analysis (which runs on the calling thread):
  // by one parser thread on two cores, in slices on every core but one on larger machines.
  ParallelOptions options;
  options.mapped = true;
  options.workers = workers;
  if (st.st_size < (4 << 20) || options.workers <= 1) {
    // names and problem are only written by the parser thread, and read after it ended.
    const bool ok = st.st_size < (4 << 20) ? parse_fd(fd, path, names, problem, through_ahead(sink))
                                           : run_pipelined<StdEvent, bool>(
                                                 [&](const BatchSink& to_queue) {
                                                   return parse_fd(fd, path, names, problem, through_ahead(to_queue));
                                                 },
                                                 sink);
    ::close(fd);
    return ok;
  }
  void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    problem->reason = std::string("cannot map: ") + std::strerror(errno);
    return false;
  }
  ::madvise(map, static_cast<std::size_t>(st.st_size), MADV_SEQUENTIAL);
  const std::string_view text(static_cast<const char*>(map), static_cast<std::size_t>(st.st_size));
  const bool ok = parse_text_parallel(text, path, names, problem, through_ahead(sink), options);
  ::munmap(map, static_cast<std::size_t>(st.st_size));
  return ok;
}

// One reader: the file in blocks of whole lines, read() into one reused buffer — copying the page
// cache costs about a third of mapping its pages in (on the project's VM 26-30 ms against
// 66-94 ms for 150 MB). Line numbers continue from block to block.
bool StdTrace::parse_fd(int fd, const std::string& path, StdTrace* names, Problem* problem, const BatchSink& sink) {
  std::vector<char> buffer(1 << 20);
  std::size_t have = 0;  // bytes in the buffer, a whole line or a part of one first
  std::uint64_t lines_before = 0, bytes_read = 0;
  bool eof = false;
  for (;;) {
    while (!eof && have < buffer.size()) {
      const ssize_t n = ::read(fd, buffer.data() + have, buffer.size() - have);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem->line = false;
        problem->offset = bytes_read;
        problem->reason = std::string("cannot read: ") + std::strerror(errno);
        return false;
      }
      if (n == 0) eof = true;
      have += static_cast<std::size_t>(n);
      bytes_read += static_cast<std::uint64_t>(n);
    }
    if (have == 0) return true;
    std::size_t whole = have;  // at the end of the file, the last line needs no newline
    if (!eof) {
      const void* nl = ::memrchr(buffer.data(), '\n', have);
      if (nl == nullptr) {  // a line longer than the buffer
        buffer.resize(2 * buffer.size());
        continue;
      }
      whole = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer.data()) + 1;
    }
    std::uint64_t lines = 0;
    if (!parse_text(std::string_view(buffer.data(), whole), path, names, problem, sink, &lines)) {
      problem->offset += lines_before;
      return false;
    }
    lines_before += lines;
    std::memmove(buffer.data(), buffer.data() + whole, have - whole);
    have -= whole;
  }
}

void StdTrace::write(std::ostream& out) const {
  std::string buf;
  buf.reserve(1 << 16);
  for (const StdEvent& e : events) {
    buf += threads[e.thread];
    buf += '|';
    buf += std_op_name(e.op);
    switch (e.op) {
      case StdOp::kAcquire:
      case StdOp::kRelease: buf += '(', buf += locks[e.target], buf += ')'; break;
      case StdOp::kRead:
      case StdOp::kWrite: buf += '(', buf += variables[e.target], buf += ')'; break;
      case StdOp::kFork:
      case StdOp::kJoin: buf += '(', buf += threads[e.target], buf += ')'; break;
      default: break;
    }
    buf += '|';
    buf += locations[e.location];
    buf += '\n';
    if (buf.size() > (1 << 16) - 256) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace lockgraph::analysis
