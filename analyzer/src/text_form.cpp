// Text form of trace events: formatting (dump) and parsing (tests, hand-written traces).
#include "lockgraph/analyzer/text_form.hpp"

#include <charconv>
#include <sstream>

namespace lockgraph::analysis {

std::uint64_t Event::*name_field(Kind kind) noexcept {
  switch (kind) {
    case Kind::kLockCreate:
    case Kind::kEventCreate:
    case Kind::kCondCreate:
    case Kind::kThreadName:
      return &Event::value;
    case Kind::kThreadStart:
    case Kind::kPoolCreate:
    case Kind::kVarName:
      return &Event::value2;
    case Kind::kSemCreate:
      return &Event::value3;
    default:
      return nullptr;
  }
}

namespace {

constexpr std::uint64_t kMaxTextProcesses = 65536;  // process indexes of a text trace: 0 .. this - 1

bool uses_acq_flags(Kind k) {
  switch (k) {
    case Kind::kLockRequest:
    case Kind::kLockAcquired:
    case Kind::kLockFailed:
    case Kind::kLockRelease:
    case Kind::kSemRequest:
    case Kind::kSemAcquired:
    case Kind::kSemFailed:
      return true;
    default:
      return false;
  }
}

std::string hex(std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
  return "0x" + std::string(buf, r.ptr);
}

// Splits a line into tokens; "quoted values" may hold spaces (key="a b" stays one token).
bool tokenize(const std::string& line, std::vector<std::string>* out) {
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string tok;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      if (line[i] == '"') {
        ++i;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          tok += line[i++];
        }
        if (i >= line.size()) return false;  // unterminated quote
        ++i;
      } else {
        tok += line[i++];
      }
    }
    out->push_back(std::move(tok));
  }
  return true;
}

bool parse_u64(std::string_view s, std::uint64_t* v) {
  if (s.empty()) return false;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::string quote_if_needed(std::string_view s) {
  if (!s.empty() && s.find_first_of(" \t\"\\") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}


std::string format_event(const Event& e, const StringLookup& strings, const SiteLookup& sites) {
  std::ostringstream o;
  o << e.process << ':' << e.thread << ' ' << kind_name(e.kind);
  auto name_ptr = name_field(e.kind);
  if (e.object != 0 || e.kind == Kind::kThreadStart) o << " obj=" << hex(e.object);
  if (e.seq != 0) o << " seq=" << e.seq;
  if (e.time != 0) o << " time=" << e.time;
  if (e.kind == Kind::kLockCreate) o << " type=" << lock_type_name(e.flags);
  if (e.value != 0 && name_ptr != &Event::value) o << " value=" << e.value;
  if (e.value2 != 0 && name_ptr != &Event::value2) o << " value2=" << e.value2;
  if (e.value3 != 0 && name_ptr != &Event::value3) o << " value3=" << e.value3;
  if (name_ptr != nullptr && e.*name_ptr != 0) {
    o << " name=" << quote_if_needed(strings(e.process, std::uint32_t(e.*name_ptr)));
  }
  if (e.kind == Kind::kRead || e.kind == Kind::kWrite) {
    o << " size=" << unsigned(e.flags);
  } else if (uses_acq_flags(e.kind)) {
    if (e.flags != 0) o << " flags=" << acq_flags_text(e.flags);
  } else if (e.flags != 0 && e.kind != Kind::kLockCreate) {
    o << " flags=" << unsigned(e.flags);
  }
  if (e.extra_words != 0) {
    o << " extra=";
    for (std::uint32_t i = 0; i < e.extra_words; ++i) o << (i ? "," : "") << e.extra[i];
  }
  if (e.site != 0) {
    const Site* s = sites(e.process, e.site);
    if (s != nullptr && !s->file.empty()) {
      o << " at=" << quote_if_needed(s->file + ":" + std::to_string(s->line));
      if (!s->function.empty()) o << " fn=" << quote_if_needed(s->function);
    } else if (s != nullptr) {
      o << " at=" << quote_if_needed(s->location());
    }
  }
  return o.str();
}

bool parse_text_trace(std::istream& in, const std::string& name, TextTrace* out, Problem* error) {
  std::string line;
  std::uint64_t lineno = 0;
  std::unordered_map<std::string, std::uint32_t> string_ids;
  std::unordered_map<std::string, std::uint32_t> site_ids;
  auto intern = [&](const std::string& s) {
    auto [it, fresh] = string_ids.emplace(s, std::uint32_t(string_ids.size() + 1));
    if (fresh) out->strings[it->second] = s;
    return it->second;
  };
  auto fail = [&](const std::string& why) {
    *error = Problem{name, lineno, why, true};
    return false;
  };
  std::vector<std::pair<std::size_t, std::vector<std::uint64_t>>> extras;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::vector<std::string> tok;
    if (!tokenize(line, &tok)) return fail("unterminated quote");
    if (tok[0] == "process") {
      std::uint64_t index = 0;
      if (tok.size() < 2 || !parse_u64(tok[1], &index)) return fail("process needs an index");
      if (index != out->processes.size()) return fail("processes must be numbered 0, 1, 2... in order");
      TextProcess p;
      p.pid = index + 1;
      for (std::size_t i = 2; i < tok.size(); ++i) {
        auto eq = tok[i].find('=');
        if (eq == std::string::npos) return fail("expected key=value, got '" + tok[i] + "'");
        std::string key = tok[i].substr(0, eq), val = tok[i].substr(eq + 1);
        bool ok = true;
        if (key == "pid") ok = parse_u64(val, &p.pid);
        else if (key == "ppid") ok = parse_u64(val, &p.ppid);
        else if (key == "fork") ok = parse_u64(val, &p.fork_id);
        else if (key == "program") p.program = val;
        else if (key == "trailer") p.has_trailer = val == "yes";
        else return fail("unknown process field '" + key + "'");
        if (!ok) return fail("bad number in '" + tok[i] + "'");
      }
      out->processes.push_back(p);
      continue;
    }
    Event e;
    auto colon = tok[0].find(':');
    std::uint64_t proc = 0, thread = 0;
    bool ok = colon == std::string::npos ? parse_u64(tok[0], &thread)
                                         : parse_u64(tok[0].substr(0, colon), &proc) && parse_u64(tok[0].substr(colon + 1), &thread);
    if (!ok) return fail("expected PROCESS:THREAD or THREAD, got '" + tok[0] + "'");
    // Processes are numbered densely from 0 (each index up to the largest gets an entry): a bound
    // keeps a typo or a hostile file from allocating without limit.
    if (proc >= kMaxTextProcesses) {
      return fail("process index " + std::to_string(proc) + " is out of range (at most " +
                  std::to_string(kMaxTextProcesses) + " processes)");
    }
    if (thread > 0xffffffffu) return fail("thread id " + std::to_string(thread) + " is out of range (at most 2^32 - 1)");
    if (tok.size() < 2 || !kind_from_name(tok[1], &e.kind)) {
      return fail("unknown event kind '" + (tok.size() < 2 ? std::string() : tok[1]) + "'");
    }
    while (out->processes.size() <= proc) {
      TextProcess p;
      p.pid = out->processes.size() + 1;
      out->processes.push_back(p);
    }
    e.process = std::uint32_t(proc);
    e.thread = std::uint32_t(thread);
    std::string at, fn;
    std::string obj_word;
    bool has_name = false;
    for (std::size_t i = 2; i < tok.size(); ++i) {
      auto eq = tok[i].find('=');
      if (eq == std::string::npos) return fail("expected key=value, got '" + tok[i] + "'");
      std::string key = tok[i].substr(0, eq), val = tok[i].substr(eq + 1);
      std::uint64_t* num = nullptr;
      if (key == "obj") {
        if (!parse_u64(val, &e.object)) {
          auto [it, fresh] = out->object_names.emplace(val, std::uint64_t(out->object_names.size() + 1) << 8);
          (void)fresh;
          e.object = it->second;
          obj_word = val;
        }
        continue;
      }
      if (key == "seq") num = &e.seq;
      else if (key == "time") num = &e.time;
      else if (key == "value") num = &e.value;
      else if (key == "value2") num = &e.value2;
      else if (key == "value3") num = &e.value3;
      if (num != nullptr) {
        if (!parse_u64(val, num)) return fail("bad number in '" + tok[i] + "'");
        continue;
      }
      if (key == "at") {
        at = val;
      } else if (key == "fn") {
        fn = val;
      } else if (key == "name") {
        auto field = name_field(e.kind);
        if (field == nullptr) return fail(std::string(kind_name(e.kind)) + " has no name");
        e.*field = intern(val);
        has_name = true;
      } else if (key == "type") {
        if (!lock_type_from_name(val, &e.flags)) return fail("unknown lock type '" + val + "'");
      } else if (key == "size") {
        std::uint64_t size = 0;
        if (!parse_u64(val, &size)) return fail("bad size '" + val + "'");
        if (e.kind == Kind::kRead || e.kind == Kind::kWrite) {
          if (size == 0 || size > 255) return fail("size of read/write must be 1..255 (use read_range)");
          e.flags = std::uint8_t(size);
        } else {
          e.value = size;
        }
      } else if (key == "flags") {
        std::uint64_t f = 0;
        if (parse_u64(val, &f) && f <= 255) {
          e.flags = std::uint8_t(f);
        } else if (!acq_flags_from_text(val, &e.flags)) {
          return fail("unknown flags '" + val + "'");
        }
      } else if (key == "extra") {
        std::vector<std::uint64_t> words;
        std::stringstream ss(val);
        std::string w;
        while (std::getline(ss, w, ',')) {
          std::uint64_t x = 0;
          if (!parse_u64(w, &x)) return fail("bad extra word '" + w + "'");
          words.push_back(x);
        }
        // A binary record holds at most 8,185 extra words (its length is 16 bits of bytes).
        if (words.size() > 8185) return fail("more than 8185 extra words");
        extras.emplace_back(out->events.size(), std::move(words));
      } else {
        return fail("unknown field '" + key + "'");
      }
    }
    // A create of a named object defaults its name to the word that names it.
    if (!has_name && !obj_word.empty() && name_field(e.kind) != nullptr && e.kind != Kind::kThreadStart) {
      e.*name_field(e.kind) = intern(obj_word);
    }
    if (e.kind == Kind::kLockCreate && e.flags == 0) e.flags = static_cast<std::uint8_t>(format::LockType::kMutex);
    if (!at.empty()) {
      std::string key = at + "\n" + fn;
      auto [it, fresh] = site_ids.emplace(key, std::uint32_t(site_ids.size() + 1));
      if (fresh) {
        Site s;
        auto c = at.rfind(':');
        std::uint64_t line_no = 0;
        if (c != std::string::npos && parse_u64(at.substr(c + 1), &line_no)) {
          s.file = at.substr(0, c);
          s.line = unsigned(line_no);
        } else {
          s.file = at;
        }
        s.function = fn;
        out->sites[it->second] = s;
      }
      e.site = it->second;
    }
    out->events.push_back(e);
  }
  // Extra words live in one buffer owned by the TextTrace, attached once it no longer grows.
  std::vector<std::size_t> offsets;
  for (auto& [idx, words] : extras) {
    offsets.push_back(out->extra_words.size());
    out->extra_words.insert(out->extra_words.end(), words.begin(), words.end());
  }
  for (std::size_t i = 0; i < extras.size(); ++i) {
    Event& e = out->events[extras[i].first];
    e.extra = out->extra_words.data() + offsets[i];
    e.extra_words = std::uint16_t(extras[i].second.size());
  }
  if (out->processes.empty()) out->processes.push_back(TextProcess{1, 0, 0, "", true});
  return true;
}

}  // namespace lockgraph::analysis
