// TraceFile: maps a trace, validates it chunk by chunk, and decodes records on demand.
#include "lockgraph/analyzer/trace_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

namespace lockgraph::analysis {

namespace {
std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Records whose payload is not the canonical object/seq/time/value... layout.
bool is_definition(Kind k) {
  return k == Kind::kStringDef || k == Kind::kSiteDef || k == Kind::kSiteDefPc || k == Kind::kSiteCallers ||
         k == Kind::kModule;
}

constexpr std::uint32_t kMaxPlausibleThread = 1u << 24;

// Walks the records of a chunk body [p, end): calls on_record(offset, word0, length) for each
// valid record and returns where the walk stopped — at a zero word (never written), the end, or
// the first damaged record, in which case *bad says why (it stays empty otherwise).
template <class OnRecord>
std::uint64_t walk_records(const unsigned char* data, std::uint64_t p, std::uint64_t end, std::string* bad,
                           OnRecord&& on_record) {
  while (p + 8 <= end) {
    const std::uint64_t w0 = load64(data + p);
    if (w0 == 0) break;
    const std::uint8_t raw_kind = std::uint8_t(w0 & 0xff);
    const std::uint16_t len = format::word0_length(w0);
    if (!is_known_kind(raw_kind)) {
      *bad = "unknown record kind " + std::to_string(raw_kind);
      break;
    }
    if (len < 8 || len % 8 != 0 || p + len > end) {
      *bad = "corrupt record length " + std::to_string(len);
      break;
    }
    on_record(p, w0, len);
    p += len;
  }
  return p;
}

// The accesses a run's body holds: one per full word, one or two per pair word, none per zero
// word (the count progress reports show; a damaged word may make it off by one).
std::uint64_t run_accesses(const unsigned char* body, std::uint64_t words) {
  std::uint64_t n = 0;
  for (std::uint64_t i = 0; i < words; ++i) {
    const std::uint64_t w = load64(body + 8 * i);
    n += std::uint64_t(w != 0) + std::uint64_t(format::is_pair_word(w) && (format::pair_half(w, 1) & 1) != 0);
  }
  return n;
}
}  // namespace

std::string Problem::message() const {
  if (line) return file + ":" + std::to_string(offset) + ": " + reason;
  return file + ": byte " + std::to_string(offset) + ": " + reason;
}

const SiteStack* Site::stack_of(std::uint32_t thread) const noexcept {
  for (const SiteStack& st : stacks) {
    if (st.thread == thread || st.thread == 0) return &st;
  }
  return nullptr;
}

std::string Site::location() const {
  if (!file.empty()) return file + ":" + std::to_string(line);
  if (!module.empty()) return std::filesystem::path(module).filename().string() + "+" + hex(module_offset);
  if (pc != 0) return hex(pc);
  return "?";
}

std::unique_ptr<TraceFile> TraceFile::open(const std::string& path, Problem* error) {
  *error = Problem{path, 0, ""};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error->reason = std::string("cannot open: ") + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error->reason = "not a regular file";
    return nullptr;
  }
  std::uint64_t size = std::uint64_t(st.st_size);
  if (size == 0) {
    ::close(fd);
    error->reason = "empty file (the traced process wrote nothing)";
    return nullptr;
  }
  void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) {
    ::close(fd);
    error->reason = std::string("cannot map: ") + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<TraceFile> f(new TraceFile());
  f->path_ = path;
  f->data_ = static_cast<const unsigned char*>(m);
  f->size_ = size;
  f->mapped_ = true;
  if (!f->validate_header(error)) {
    ::close(fd);
    return nullptr;
  }
  f->scan(fd);  // reads the file, leaving the mapping to the replay
  ::close(fd);
  return f;
}

std::unique_ptr<TraceFile> TraceFile::from_bytes(const std::string& name, const void* data, std::size_t size,
                                                 Problem* error) {
  *error = Problem{name, 0, ""};
  if (size == 0) {
    error->reason = "empty file (the traced process wrote nothing)";
    return nullptr;
  }
  std::unique_ptr<TraceFile> f(new TraceFile());
  f->path_ = name;
  f->owned_.assign(static_cast<const unsigned char*>(data), static_cast<const unsigned char*>(data) + size);
  f->data_ = f->owned_.data();
  f->size_ = size;
  if (!f->validate_header(error)) return nullptr;
  f->scan(-1);
  return f;
}

bool TraceFile::validate_header(Problem* error) {
  if (size_ < 8 || std::memcmp(data_, format::kMagic, 8) != 0) {
    error->reason = "not a lockgraph trace (bad magic)";
    return false;
  }
  if (size_ < sizeof(format::FileHeader)) {
    error->offset = size_;
    error->reason = "truncated header (" + std::to_string(size_) + " of " + std::to_string(sizeof(format::FileHeader)) + " bytes)";
    return false;
  }
  std::memcpy(&header_, data_, sizeof(format::FileHeader));
  header_.program[sizeof header_.program - 1] = '\0';
  if (header_.version > format::kVersion) {
    error->offset = 8;
    error->reason = "trace format version " + std::to_string(header_.version) +
                    " is newer than this lockgraph reads (" + std::to_string(format::kVersion) + "); upgrade lockgraph";
    return false;
  }
  if (header_.version == 0) {
    error->offset = 8;
    error->reason = "invalid trace format version 0";
    return false;
  }
  if (header_.header_size != format::kHeaderSize || header_.chunk_size != format::kChunkSize) {
    error->offset = 12;
    error->reason = "unsupported layout (header " + std::to_string(header_.header_size) + " bytes, chunk " +
                    std::to_string(header_.chunk_size) + " bytes)";
    return false;
  }
  return true;
}

TraceFile::~TraceFile() {
  if (mapped_) munmap(const_cast<unsigned char*>(data_), size_);
}

namespace {

// The scan's view of the file: the bytes of one chunk at a time. For a trace file they are read
// with pread() into a buffer, a block of chunks at a time: the first touch of a file mapping
// costs more than copying (on the project's VM 66-94 ms against 26-30 ms for a 153 MB trace),
// and the replay, which reads the records through the mapping, then pays it on its own thread.
// For bytes in memory (from_bytes) the view points into them.
class ChunkBytes {
 public:
  ChunkBytes(int fd, const unsigned char* memory, std::uint64_t size) : fd_(fd), memory_(memory), size_(size) {}

  // The bytes [off, off + n), n <= one block; valid until the next call.
  const unsigned char* at(std::uint64_t off, std::uint64_t n) {
    if (fd_ < 0) return memory_ + off;
    if (off < block_off_ || off + n > block_off_ + block_len_) {
      block_off_ = off;
      block_len_ = std::min<std::uint64_t>(kBlock, size_ - off);
      buffer_.resize(kBlock);
      read_exactly(off, block_len_, buffer_.data());
    }
    return buffer_.data() + (off - block_off_);
  }
  // A copy of [off, off + n), for the rare second look (a chunk found twice, definitions).
  std::vector<unsigned char> copy(std::uint64_t off, std::uint64_t n) {
    std::vector<unsigned char> bytes(n);
    if (fd_ < 0) {
      std::memcpy(bytes.data(), memory_ + off, n);
    } else {
      read_exactly(off, n, bytes.data());
    }
    return bytes;
  }

 private:
  static constexpr std::uint64_t kBlock = 64 * format::kChunkSize;
  void read_exactly(std::uint64_t off, std::uint64_t n, unsigned char* out) const {
    std::uint64_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, out + done, n - done, off_t(off + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      done += std::uint64_t(r);
    }
    std::memset(out + done, 0, n - done);  // shorter than at open: reads as never written
  }

  int fd_;
  const unsigned char* memory_;
  std::uint64_t size_;
  std::vector<unsigned char> buffer_;
  std::uint64_t block_off_ = 0, block_len_ = 0;
};

// What the first pass learns of one claimed chunk position.
struct ChunkScan {
  std::uint64_t offset = 0, avail = 0;
  format::ChunkHeader header{};
  std::uint64_t stop = 0;     // file offset where its valid records end
  std::string bad;            // why the walk stopped early, or empty
  std::uint64_t records = 0;  // events in it (an access run counts each access)
  bool definitions = false;   // holds strings, sites, modules or the trailer
};

}  // namespace

namespace {

// From this many chunks (32 MiB) on, the first pass reads the file on two threads.
constexpr std::uint64_t kParallelScanChunks = 2048;

// The first pass over the chunk positions [from, to) (chunk-aligned): one ChunkScan per claimed
// chunk, in file order, and the sites of thread creations (what a report names a thread by).
// *truncated_header (if given) is set when the file ends inside a chunk header.
void scan_chunks(ChunkBytes& bytes, std::uint64_t from, std::uint64_t to, std::vector<ChunkScan>* chunks,
                 std::vector<std::uint32_t>* creation_sites, std::optional<std::uint64_t>* truncated_header) {
  const std::uint64_t cs = format::kChunkSize;
  for (std::uint64_t off = from; off < to; off += cs) {
    const std::uint64_t avail = std::min(cs, to - off);
    if (avail < sizeof(format::ChunkHeader)) {
      if (truncated_header != nullptr) *truncated_header = off;
      break;
    }
    const unsigned char* c = bytes.at(off, avail);
    ChunkScan ch;
    std::memcpy(&ch.header, c, sizeof ch.header);
    if (ch.header.magic == 0) continue;  // never claimed
    ch.offset = off;
    ch.avail = avail;
    if (ch.header.magic == format::kChunkMagic) {
      ch.stop = off + walk_records(c, sizeof(format::ChunkHeader), avail, &ch.bad,
                                   [&](std::uint64_t p, std::uint64_t w0, std::uint16_t len) {
                                     const Kind k = static_cast<Kind>(w0 & 0xff);
                                     if (is_definition(k) || k == Kind::kTrailer) {
                                       ch.definitions = true;
                                     } else {
                                       ch.records += k == Kind::kAccessRun ? run_accesses(c + p + 8, (len - 8) / 8) : 1;
                                       if (k == Kind::kThreadCreate) creation_sites->push_back(format::word0_site(w0));
                                     }
                                   });
    }
    chunks->push_back(std::move(ch));
  }
}

// Whether `cut` is a copy of `whole` cut short: the same bytes up to a page boundary, zeros from
// there on. The tracer's writer copies filled chunks with pwritev(), which a fatal signal stops
// between pages; the original is cleared only after the call returned, so it is still whole.
// Unlike a prefix of valid records, this also holds when the cut falls inside a record.
bool cut_short_of(const std::vector<unsigned char>& cut, const std::vector<unsigned char>& whole) {
  if (cut.size() != whole.size()) return false;
  const auto differ = std::mismatch(cut.begin(), cut.end(), whole.begin());
  if (differ.first == cut.end()) return false;  // identical
  const std::size_t page = std::size_t(differ.first - cut.begin()) / 4096 * 4096;
  return std::all_of(cut.begin() + std::ptrdiff_t(page), cut.end(), [](unsigned char b) { return b == 0; });
}

}  // namespace

void TraceFile::scan(int fd) {
  const std::uint64_t hs = format::kHeaderSize;
  const std::uint64_t cs = format::kChunkSize;
  if (size_ < hs) {
    problems_.push_back({path_, size_, "truncated: the file ends inside the header page; no records"});
    return;
  }
  ChunkBytes bytes(fd, data_, size_);
  // First pass, in file order: each claimed chunk's header, where its records end and what they
  // hold. A large file is read as two halves on two threads (reading it is most of this pass's
  // time: copying 150 MB from the page cache takes ~75 ms on the project's VM).
  std::vector<ChunkScan> chunks;
  std::vector<std::uint32_t> creation_sites;
  std::optional<std::uint64_t> truncated_header;  // where the file ends inside a chunk header
  const std::uint64_t chunk_count = (size_ - hs + cs - 1) / cs;
  if (fd >= 0 && chunk_count >= kParallelScanChunks && std::thread::hardware_concurrency() >= 2) {
    const std::uint64_t middle = hs + chunk_count / 2 * cs;
    std::vector<ChunkScan> later;
    std::vector<std::uint32_t> later_sites;
    std::thread second([&] {
      ChunkBytes own(fd, data_, size_);
      scan_chunks(own, middle, size_, &later, &later_sites, &truncated_header);
    });
    scan_chunks(bytes, hs, middle, &chunks, &creation_sites, nullptr);
    second.join();
    chunks.insert(chunks.end(), std::make_move_iterator(later.begin()), std::make_move_iterator(later.end()));
    creation_sites.insert(creation_sites.end(), later_sites.begin(), later_sites.end());
  } else {
    scan_chunks(bytes, hs, size_, &chunks, &creation_sites, &truncated_header);
  }
  for (std::uint32_t site : creation_sites) note_creation_site(site);

  // A chunk can be in the file twice: the tracer's staging writer copies a filled chunk to its
  // place in the file and then clears the original, so a process killed in between leaves both,
  // identical. A copy cut short by a kill gives way to the whole one (cut_short_of). Otherwise, of
  // each (thread, chunk index) the copy with the most valid records is read; later copies resolve
  // in file order.
  std::vector<bool> superseded(chunks.size(), false);
  {
    std::unordered_map<std::uint64_t, std::size_t> kept;  // (thread, index) -> the copy read
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      const ChunkScan& ch = chunks[i];
      if (ch.header.magic != format::kChunkMagic) continue;
      const std::uint64_t key = std::uint64_t(ch.header.thread) << 32 | ch.header.index;
      auto [it, fresh] = kept.emplace(key, i);
      if (fresh) continue;
      const ChunkScan& k = chunks[it->second];
      const std::uint64_t len = ch.stop - ch.offset, kept_len = k.stop - k.offset;
      const std::uint64_t common = std::min(len, kept_len);
      const std::uint64_t span = std::min<std::uint64_t>(cs, size_ - std::max(ch.offset, k.offset));
      const std::vector<unsigned char> mine = bytes.copy(ch.offset, span), theirs = bytes.copy(k.offset, span);
      const bool mine_cut = cut_short_of(mine, theirs), theirs_cut = cut_short_of(theirs, mine);
      if (mine_cut || theirs_cut) {
        superseded[theirs_cut ? it->second : i] = true;
        if (theirs_cut) it->second = i;
        continue;
      }
      // Both copies' valid records lie within `span` bytes of their starts (common <= span).
      if (!std::equal(mine.begin(), mine.begin() + std::ptrdiff_t(common), theirs.begin())) {
        problems_.push_back({path_, ch.offset, "two different copies of chunk " + std::to_string(ch.header.index) +
                                                   " of thread " + std::to_string(ch.header.thread) + "; the longer one is read"});
      }
      if (len > kept_len) {
        superseded[it->second] = true;
        it->second = i;
      } else {
        superseded[i] = true;
      }
    }
  }

  // Second pass over the chunks read: problems in file order, definitions, spans.
  // Site definitions name strings that may be defined later in the file (by another thread).
  struct PendingSite {
    std::uint32_t site;
    std::uint64_t file, function, module;
    std::vector<std::uint64_t> caller_modules;
  };
  std::vector<PendingSite> pending;
  struct PendingStack {  // a kSiteCallers record: its site may be defined in a chunk read later
    std::uint32_t site;
    SiteStack stack;
    std::vector<std::uint64_t> caller_modules;
  };
  std::vector<PendingStack> pending_stacks;
  // Reads a stack (n, then n (module string, offset) pairs) from `words` payload words at `at`.
  auto read_stack = [](const unsigned char* at, std::size_t words, SiteStack* stack, std::vector<std::uint64_t>* modules) {
    const std::uint64_t n = words > 0 ? load64(at) : 0;
    for (std::uint64_t i = 0; i < n && 2 + 2 * i < words && i < 16; ++i) {
      modules->push_back(load64(at + 8 + 16 * i));
      SiteFrame f;
      f.offset = load64(at + 16 + 16 * i);
      stack->frames.push_back(std::move(f));
    }
  };
  // thread -> (chunk index -> span)
  std::map<std::uint32_t, std::map<std::uint32_t, Span>> by_thread;
  for (std::size_t chunk = 0; chunk < chunks.size(); ++chunk) {
    const ChunkScan& ch = chunks[chunk];
    if (superseded[chunk]) continue;  // another copy is kept
    const std::uint64_t off = ch.offset;
    if (ch.header.magic != format::kChunkMagic) {
      problems_.push_back({path_, off, "corrupt chunk header (magic " + hex(ch.header.magic) + "); chunk skipped"});
      continue;
    }
    if (ch.header.thread >= kMaxPlausibleThread && ch.header.thread != format::kTrailerThread) {
      problems_.push_back({path_, off + 4, "corrupt chunk header (thread id " + std::to_string(ch.header.thread) + "); chunk skipped"});
      continue;
    }
    if (ch.avail < cs) {
      problems_.push_back({path_, off + ch.avail, "truncated: the file ends inside a chunk of thread " +
                                                      std::to_string(ch.header.thread) + "; records before it are kept"});
    }
    record_count_ += ch.records;
    if (ch.definitions) {
      const std::vector<unsigned char> c = bytes.copy(off, ch.stop - off);
      std::string ignored;  // the first pass found the same records
      walk_records(c.data(), sizeof(format::ChunkHeader), c.size(), &ignored,
                   [&](std::uint64_t p, std::uint64_t w0, std::uint16_t len) {
        Kind k = static_cast<Kind>(w0 & 0xff);
        std::uint32_t id = format::word0_site(w0);
        const unsigned char* payload = c.data() + p + 8;
        std::size_t words = (len - 8) / 8;
        if (k == Kind::kStringDef) {
          std::size_t n = strnlen(reinterpret_cast<const char*>(payload), words * 8);
          strings_[id] = std::string(reinterpret_cast<const char*>(payload), n);
        } else if (k == Kind::kSiteDef) {
          Site s;
          std::uint64_t w[4] = {};
          for (std::size_t i = 0; i < std::min<std::size_t>(words, 4); ++i) w[i] = load64(payload + 8 * i);
          s.line = unsigned(w[1]);
          s.pc = w[3];
          sites_[id] = std::move(s);
          pending.push_back({id, w[0], w[2], 0, {}});  // strings resolved below, once all are known
        } else if (k == Kind::kSiteDefPc) {
          Site s;
          std::uint64_t w[3] = {};
          for (std::size_t i = 0; i < std::min<std::size_t>(words, 3); ++i) w[i] = load64(payload + 8 * i);
          s.pc = w[0];
          s.module_offset = w[2];
          s.data = (format::word0_flags(w0) & 1) != 0;
          s.by_caller = !s.data && (format::word0_flags(w0) & format::kSiteByCaller) != 0;
          std::vector<std::uint64_t> caller_modules;
          if (!s.data) {
            // From format v3 each thread's own stack is recorded; before, only the first thread's.
            SiteStack stack;
            stack.thread = header_.version >= 3 ? ch.header.thread : 0;
            if (words > 3) read_stack(payload + 24, words - 3, &stack, &caller_modules);
            s.stacks.push_back(std::move(stack));
          }
          sites_[id] = std::move(s);
          pending.push_back({id, 0, 0, w[1], std::move(caller_modules)});
        } else if (k == Kind::kSiteCallers) {
          PendingStack ps{id, {}, {}};
          ps.stack.thread = ch.header.thread;
          read_stack(payload, words, &ps.stack, &ps.caller_modules);
          pending_stacks.push_back(std::move(ps));
        } else if (k == Kind::kModule && words > 3) {
          Module m;
          m.bias = load64(payload);
          m.low = load64(payload + 8);
          m.high = load64(payload + 16);
          std::size_t n = strnlen(reinterpret_cast<const char*>(payload + 24), (words - 3) * 8);
          m.path = std::string(reinterpret_cast<const char*>(payload + 24), n);
          if (m.low < m.high) modules_.push_back(std::move(m));
        } else if (k == Kind::kTrailer) {
          Event e;
          decode_at(off + p, ch.header.thread, &e);
          trailer_ = e;
        }
      });
    }
    if (!ch.bad.empty()) {
      problems_.push_back({path_, ch.stop, ch.bad + "; rest of chunk of thread " + std::to_string(ch.header.thread) + " skipped"});
    }
    Span span{off + sizeof(format::ChunkHeader), ch.stop};
    by_thread[ch.header.thread].emplace(ch.header.index, span);  // one copy per chunk (see above)
  }
  if (truncated_header) problems_.push_back({path_, *truncated_header, "truncated: the file ends inside a chunk header"});
  // Resolve site strings now that every definition is known.
  auto str = [this](std::uint64_t id) -> std::string {
    auto it = strings_.find(std::uint32_t(id));
    return it != strings_.end() ? it->second : id == 0 ? std::string() : "<string " + std::to_string(id) + ">";
  };
  // A stack's frames get their modules' paths (string ids until every definition is known).
  auto name_modules = [&str](const std::vector<std::uint64_t>& modules, SiteStack* stack) {
    for (std::size_t i = 0; i < modules.size() && i < stack->frames.size(); ++i) stack->frames[i].module = str(modules[i]);
  };
  for (const PendingSite& ps : pending) {
    Site& s = sites_[ps.site];
    s.file = str(ps.file);
    s.function = str(ps.function);
    s.module = str(ps.module);
    if (!s.stacks.empty()) name_modules(ps.caller_modules, &s.stacks.front());
  }
  for (PendingStack& ps : pending_stacks) {
    auto it = sites_.find(ps.site);
    if (it == sites_.end() || it->second.data || it->second.stack_of(ps.stack.thread) != nullptr) continue;
    name_modules(ps.caller_modules, &ps.stack);
    it->second.stacks.push_back(std::move(ps.stack));
  }
  for (auto& [tid, chunks_of_thread] : by_thread) {
    if (tid == format::kTrailerThread) continue;
    std::uint32_t expect = 0;
    auto& spans = spans_[tid];
    for (auto& [index, span] : chunks_of_thread) {
      if (index != expect) {
        problems_.push_back({path_, span.begin, "thread " + std::to_string(tid) + ": chunks " + std::to_string(expect) +
                                                    ".." + std::to_string(index - 1) + " missing; records lost there"});
      }
      expect = index + 1;
      spans.push_back(span);
    }
    thread_ids_.push_back(tid);
  }
}

bool TraceFile::decode_at(std::uint64_t offset, std::uint32_t thread, Event* e) const noexcept {
  std::uint64_t w0 = load64(data_ + offset);
  std::uint16_t len = format::word0_length(w0);
  *e = Event{};
  e->kind = format::word0_kind(w0);
  e->flags = format::word0_flags(w0);
  e->site = format::word0_site(w0);
  e->thread = thread;
  std::size_t words = (len - 8) / 8;
  const unsigned char* p = data_ + offset + 8;
  std::uint64_t* fields[6] = {&e->object, &e->seq, &e->time, &e->value, &e->value2, &e->value3};
  for (std::size_t i = 0; i < std::min<std::size_t>(words, 6); ++i) *fields[i] = load64(p + 8 * i);
  if (words > 6) {
    e->extra = reinterpret_cast<const std::uint64_t*>(p + 48);
    e->extra_words = std::uint16_t(words - 6);  // < 2^13: the length is 16 bits of bytes
  }
  if (e->kind == Kind::kLockAcquiredPacked || e->kind == Kind::kLockReleasePacked) {
    e->kind = e->kind == Kind::kLockAcquiredPacked ? Kind::kLockAcquired : Kind::kLockRelease;
    const std::uint64_t word = e->object;
    e->object = format::packed_lock_id(word, header_.pid);
    e->seq = format::packed_lock_seq(word);
  }
  return true;
}

bool TraceFile::Cursor::next(Event* e) noexcept {
  while (spans_ != nullptr && span_ < spans_->size()) {
    const Span& s = (*spans_)[span_];
    if (pos_ == 0) pos_ = s.begin;
    if (pos_ >= s.end) {
      ++span_;
      pos_ = 0;
      continue;
    }
    std::uint64_t w0 = load64(file_->data_ + pos_);
    std::uint64_t at = pos_;
    Kind k = format::word0_kind(w0);
    if (k == Kind::kAccessRun) {
      // One event per access: a full word holds one, a pair word one or two (each half relative to
      // the access before it).
      const std::uint64_t words = (format::word0_length(w0) - 8) / 8;
      while (run_index_ < words) {
        const std::uint64_t word_at = at + 8 + 8 * run_index_;
        const std::uint64_t word = load64(file_->data_ + word_at);
        format::RunAccess a;
        if (word == 0) {  // an append cut short by a kill (see format::run_access_word)
          ++run_index_;
          continue;
        }
        if (!format::is_pair_word(word)) {
          a = format::decode_run_access(word, format::word0_site(w0));
          ++run_index_;
        } else {
          const std::uint64_t half = format::pair_half(word, run_half_);
          if ((half & 1) == 0) {  // half 1 not written (yet), or a damaged word: nothing to return
            run_half_ = 0;
            ++run_index_;
            continue;
          }
          a = format::decode_pair_half(half, run_last_, format::word0_site(w0));
          if (run_half_ == 0) {
            run_half_ = 1;
          } else {
            run_half_ = 0;
            ++run_index_;
          }
        }
        run_last_ = a.address;
        *e = Event{};
        e->kind = a.write ? Kind::kWrite : Kind::kRead;
        e->flags = std::uint8_t(a.size);
        e->site = a.site;
        e->thread = thread_;
        e->object = a.address;
        return true;
      }
      run_index_ = 0;
      run_half_ = 0;
      pos_ += format::word0_length(w0);
      continue;
    }
    pos_ += format::word0_length(w0);
    if (is_definition(k) || k == Kind::kTrailer) continue;
    return file_->decode_at(at, thread_, e);
  }
  return false;
}

TraceFile::Cursor TraceFile::cursor(std::uint32_t thread) const {
  Cursor c;
  c.file_ = this;
  c.thread_ = thread;
  auto it = spans_.find(thread);
  c.spans_ = it == spans_.end() ? nullptr : &it->second;
  return c;
}

void TraceFile::resolve_site(std::uint32_t id, std::string file, unsigned line, std::string function) {
  auto it = sites_.find(id);
  if (it == sites_.end()) return;
  it->second.file = std::move(file);
  it->second.line = line;
  it->second.function = std::move(function);
}

void TraceFile::resolve_caller(std::uint32_t id, std::size_t stack, std::size_t index, std::string file, unsigned line,
                               std::string function) {
  auto it = sites_.find(id);
  if (it == sites_.end() || stack >= it->second.stacks.size() || index >= it->second.stacks[stack].frames.size()) return;
  SiteFrame& f = it->second.stacks[stack].frames[index];
  f.file = std::move(file);
  f.line = line;
  f.function = std::move(function);
}

void TraceFile::set_data_extent(std::uint32_t id, std::uint64_t offset, std::uint64_t size, std::string member) {
  auto it = sites_.find(id);
  if (it == sites_.end()) return;
  it->second.data_offset = offset;
  it->second.data_size = size;
  it->second.data_member = std::move(member);
}

std::string_view TraceFile::string(std::uint32_t id) const noexcept {
  auto it = strings_.find(id);
  return it == strings_.end() ? std::string_view{} : std::string_view(it->second);
}

const Site* TraceFile::site(std::uint32_t id) const noexcept {
  auto it = sites_.find(id);
  return it == sites_.end() ? nullptr : &it->second;
}

bool expand_trace_paths(const std::vector<std::string>& args, std::vector<std::string>* files, Problem* error) {
  namespace fs = std::filesystem;
  for (const std::string& a : args) {
    std::error_code ec;
    auto st = fs::status(a, ec);
    if (ec || !fs::exists(st)) {
      *error = Problem{a, 0, "no such file or directory"};
      return false;
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(a, ec)) {
        if (entry.path().extension() == ".trace" || entry.path().extension() == ".lgt") found.push_back(entry.path().string());
      }
      if (ec) {
        *error = Problem{a, 0, "cannot list directory: " + ec.message()};
        return false;
      }
      if (found.empty()) {
        *error = Problem{a, 0, "no trace files (*.trace) in this directory"};
        return false;
      }
      std::sort(found.begin(), found.end());
      files->insert(files->end(), found.begin(), found.end());
    } else {
      files->push_back(a);
    }
  }
  return true;
}

}  // namespace lockgraph::analysis
