// Reading and writing RAPID's STD format (see std_trace.hpp).
#include "lockgraph/analyzer/std_trace.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ostream>

#include "event_pipeline.hpp"


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

std::uint32_t StdTrace::intern(int table, std::string_view name) { return intern(table, name, prefix_word(name)); }

std::uint32_t StdTrace::intern(int table, std::string_view name, std::uint64_t w) {
  std::vector<std::string>& list = table == kThreads ? threads : table == kLocks ? locks : table == kVariables ? variables : locations;
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

bool StdTrace::parse(std::string_view text, const std::string& name, StdTrace* out, Problem* problem) {
  out->events.reserve(out->events.size() + text.size() / 16);
  return parse_text(text, name, out, problem, [out](const StdEvent& e) { out->events.push_back(e); }, false);
}

bool StdTrace::parse_text(std::string_view text, const std::string& name, StdTrace* names, Problem* problem,
                          const EventSink& sink, bool mapped) {
  StdTrace& t = *names;
  std::uint64_t line_no = 0;
  auto fail = [&](const std::string& reason) {
    problem->file = name;
    problem->offset = line_no;
    problem->line = true;
    problem->reason = reason;
    return false;
  };
  const char* p = text.data();
  const char* end = p + text.size();
  const char* released = p;  // mapped pages already parsed are given back (see parse_file)
  while (p < end) {
    if (mapped && p - released > (64 << 20)) {
      // A mapped file's parsed pages go back to the page cache: memory stays bounded by the
      // name tables, not by the trace (the mapping starts page-aligned).
      std::size_t done = static_cast<std::size_t>(p - released) & ~std::size_t(4095);
      ::madvise(const_cast<char*>(released), done, MADV_DONTNEED);
      released += done;
    }
    ++line_no;
    const char* line_start = p;
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* eol = nl ? nl : end;
    p = nl ? nl + 1 : end;
    if (eol > line_start && eol[-1] == '\r') --eol;
    std::string_view line(line_start, static_cast<std::size_t>(eol - line_start));
    if (line.empty() || line[0] == '#') continue;
    const char* bars[2] = {nullptr, nullptr};
    bars[0] = static_cast<const char*>(std::memchr(line_start, '|', line.size()));
    if (bars[0] == nullptr || bars[0] == line_start) {
      return fail("expected THREAD|OP|LOCATION, got '" + std::string(line.substr(0, 60)) + "'");
    }
    bars[1] = static_cast<const char*>(std::memchr(bars[0] + 1, '|', static_cast<std::size_t>(eol - bars[0] - 1)));
    const int nbars = bars[1] ? 2 : 1;
    const char* op_end = nbars == 2 ? bars[1] : eol;
    std::string_view thread(line_start, static_cast<std::size_t>(bars[0] - line_start));
    std::string_view op(bars[0] + 1, static_cast<std::size_t>(op_end - bars[0] - 1));
    std::string_view loc = op_end < eol ? std::string_view(op_end + 1, static_cast<std::size_t>(eol - op_end - 1)) : std::string_view();
    StdEvent e;
    e.thread = t.intern(kThreads, thread, prefix_word(thread, end));
    e.location = t.intern(kLocations, loc, prefix_word(loc, end));
    std::size_t open = op.find('(');
    std::string_view verb = op.substr(0, open);
    if (op.empty()) return fail("missing operation in '" + std::string(line.substr(0, 60)) + "'");
    std::string_view arg;
    if (open != std::string_view::npos) {
      if (op.back() != ')' || op.size() < open + 3) return fail("malformed operation '" + std::string(op) + "' (expected e.g. acq(L1))");
      arg = op.substr(open + 1, op.size() - open - 2);
    }
    auto need_arg = [&](StdOp kind, int table) {
      if (arg.empty()) return false;
      e.op = kind;
      e.target = t.intern(table, arg, prefix_word(arg, end));
      return true;
    };
    bool ok = false;
    if (verb == "r") ok = need_arg(StdOp::kRead, kVariables);
    else if (verb == "w") ok = need_arg(StdOp::kWrite, kVariables);
    else if (verb == "acq") ok = need_arg(StdOp::kAcquire, kLocks);
    else if (verb == "rel") ok = need_arg(StdOp::kRelease, kLocks);
    else if (verb == "fork") ok = need_arg(StdOp::kFork, kThreads);
    else if (verb == "join") ok = need_arg(StdOp::kJoin, kThreads);
    else if (verb == "begin" && arg.empty()) e.op = StdOp::kBegin, ok = true;
    else if (verb == "end" && arg.empty()) e.op = StdOp::kEnd, ok = true;
    if (!ok) return fail("unknown operation '" + std::string(op) + "' (STD has acq(L), rel(L), r(V), w(V), fork(T), join(T), begin, end)");
    sink(e);
  }
  return true;
}

bool StdTrace::parse_file(const std::string& path, StdTrace* out, Problem* problem) {
  return parse_file_stream(path, out, problem, [out](const StdEvent& e) { out->events.push_back(e); });
}

bool StdTrace::parse_file_stream(const std::string& path, StdTrace* names, Problem* problem, const EventSink& sink) {
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
  void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    problem->reason = std::string("cannot map: ") + std::strerror(errno);
    return false;
  }
  ::madvise(map, static_cast<std::size_t>(st.st_size), MADV_SEQUENTIAL);
  const std::string_view text(static_cast<const char*>(map), static_cast<std::size_t>(st.st_size));
  // Past a few MiB the parser runs on its own thread, ahead of the analysis (names and problem
  // are only written by it, and read after it ended).
  bool ok = st.st_size < (4 << 20) ? parse_text(text, path, names, problem, sink, true)
                                   : predictive::run_pipelined(
                                         [&](const EventSink& to_queue) {
                                           return parse_text(text, path, names, problem, to_queue, true);
                                         },
                                         sink);
  ::munmap(map, static_cast<std::size_t>(st.st_size));
  return ok;
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
