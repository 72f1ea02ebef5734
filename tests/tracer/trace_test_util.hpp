// Helpers for tracer tests: run a scenario in a forked child with its own trace file, and read a
// trace back with the real reader.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lockgraph/analyzer/trace_reader.hpp"

namespace lockgraph::testing {

// A fresh directory under /tmp, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::vector<std::string> traces() const;  // *.trace files, sorted

 private:
  std::string path_;
};

struct ChildResult {
  int status = 0;           // raw waitpid status
  std::string trace;        // the child's trace file ("" if none)
  bool exited() const;
  int exit_code() const;
  bool signaled() const;
  int signal() const;
};

// Forks; the child points LOCKGRAPH_TRACE_DIR at dir (its trace file is created by the runtime's
// fork handler), runs body, then exits with body's return value through exit() (trailer written).
ChildResult run_traced_child(const TempDir& dir, const std::function<int()>& body);
// As above but returns the child's pid at once; use wait_child() afterwards.
pid_t start_traced_child(const TempDir& dir, const std::function<int()>& body);
ChildResult wait_child(const TempDir& dir, pid_t pid);

// Every event of every thread of a trace file (program order per thread), failing the test on a
// fatal open error.
std::vector<analysis::Event> read_events(const std::string& path, std::vector<analysis::Problem>* problems = nullptr);

// Calls f(offset, header) for each chunk of a trace file's bytes whose header has the chunk
// magic, in file order (a chunk copied twice is visited twice).
void for_each_chunk(const std::string& bytes, const std::function<void(std::size_t, const format::ChunkHeader&)>& f);

// A file's bytes ("" when it cannot be read).
std::string read_file(const std::string& path);

// The raw records of a trace file's claimed chunks, as (byte offset, word0): what the writer put
// on disk, before the reader expands packed lock records and access runs.
std::map<std::uint64_t, std::uint64_t> raw_records(const std::string& path);

}  // namespace lockgraph::testing
