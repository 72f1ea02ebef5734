#include "trace_test_util.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace lockgraph::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/lockgraph-test-XXXXXX";
  char* d = mkdtemp(tmpl);
  if (d == nullptr) std::abort();
  path_ = d;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> TempDir::traces() const {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(path_)) {
    if (e.path().extension() == ".trace") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool ChildResult::exited() const { return WIFEXITED(status); }
int ChildResult::exit_code() const { return WEXITSTATUS(status); }
bool ChildResult::signaled() const { return WIFSIGNALED(status); }
int ChildResult::signal() const { return WTERMSIG(status); }

pid_t start_traced_child(const TempDir& dir, const std::function<int()>& body) {
  // The fork handler of the child reads LOCKGRAPH_TRACE_DIR to open its own file.
  std::string saved = std::getenv("LOCKGRAPH_TRACE_DIR") ? std::getenv("LOCKGRAPH_TRACE_DIR") : "";
  setenv("LOCKGRAPH_TRACE_DIR", dir.path().c_str(), 1);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int rc = body();
    std::fflush(nullptr);
    std::exit(rc);
  }
  if (saved.empty()) {
    unsetenv("LOCKGRAPH_TRACE_DIR");
  } else {
    setenv("LOCKGRAPH_TRACE_DIR", saved.c_str(), 1);
  }
  return pid;
}

ChildResult wait_child(const TempDir& dir, pid_t pid) {
  ChildResult r;
  waitpid(pid, &r.status, 0);
  std::string want = "lockgraph-" + std::to_string(pid);
  for (const std::string& t : dir.traces()) {
    if (std::filesystem::path(t).filename().string().rfind(want, 0) == 0) r.trace = t;
  }
  return r;
}

ChildResult run_traced_child(const TempDir& dir, const std::function<int()>& body) {
  return wait_child(dir, start_traced_child(dir, body));
}

std::vector<analysis::Event> read_events(const std::string& path, std::vector<analysis::Problem>* problems) {
  analysis::Problem err;
  auto f = analysis::TraceFile::open(path, &err);
  EXPECT_TRUE(f != nullptr) << err.message();
  std::vector<analysis::Event> out;
  if (!f) return out;
  for (std::uint32_t t : f->threads()) {
    auto c = f->cursor(t);
    for (analysis::Event e; c.next(&e);) out.push_back(e);
  }
  if (problems != nullptr) *problems = f->problems();
  return out;
}

void for_each_chunk(const std::string& bytes, const std::function<void(std::size_t, const format::ChunkHeader&)>& f) {
  for (std::size_t off = format::kHeaderSize; off + sizeof(format::ChunkHeader) <= bytes.size(); off += format::kChunkSize) {
    format::ChunkHeader h;
    std::memcpy(&h, bytes.data() + off, sizeof h);
    if (h.magic == format::kChunkMagic) f(off, h);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::map<std::uint64_t, std::uint64_t> raw_records(const std::string& path) {
  const std::string bytes = read_file(path);
  std::map<std::uint64_t, std::uint64_t> out;
  for (std::size_t off = format::kHeaderSize; off + format::kChunkSize <= bytes.size(); off += format::kChunkSize) {
    format::ChunkHeader h;
    std::memcpy(&h, bytes.data() + off, sizeof h);
    if (h.magic != format::kChunkMagic) continue;
    for (std::size_t p = off + sizeof h; p + 8 <= off + format::kChunkSize;) {
      std::uint64_t w0;
      std::memcpy(&w0, bytes.data() + p, 8);
      if (w0 == 0 || format::word0_length(w0) < 8) break;
      out[p] = w0;
      p += format::word0_length(w0);
    }
  }
  return out;
}

}  // namespace lockgraph::testing
