// symbolize_pc_sites: llvm-symbolizer over each module's return addresses.
#include "lockgraph/analyzer/symbolize.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

namespace lockgraph::analysis {
namespace {

std::string symbolizer_path() {
  const char* env = std::getenv("LOCKGRAPH_SYMBOLIZER");
  if (env != nullptr && *env != '\0') return env;
  for (const char* p : {"/usr/bin/llvm-symbolizer-14", "/usr/bin/llvm-symbolizer", "/usr/lib/llvm-14/bin/llvm-symbolizer"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

// ELF type at byte 16: 2 = ET_EXEC (addresses are absolute), 3 = ET_DYN (relative to the load base).
bool is_position_dependent(const std::string& module) {
  std::ifstream in(module, std::ios::binary);
  unsigned char h[18] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  return in.gcount() == sizeof h && h[0] == 0x7f && h[1] == 'E' && h[16] == 2;
}

struct Child {
  pid_t pid = -1;
  int to = -1;    // its stdin
  int from = -1;  // its stdout
};

// Starts the symbolizer on `module`, with pipes to its stdin and from its stdout.
bool spawn(const std::string& tool, const std::string& module, bool inlining, Child* c) {
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return false;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return false;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    std::string obj = "--obj=" + module;
    if (inlining) {
      execl(tool.c_str(), tool.c_str(), obj.c_str(), "--inlining", "--functions=short", "--demangle",
            static_cast<char*>(nullptr));
    } else {
      execl(tool.c_str(), tool.c_str(), obj.c_str(), "--demangle", static_cast<char*>(nullptr));
    }
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  if (pid < 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    return false;
  }
  *c = Child{pid, in_pipe[1], out_pipe[0]};
  return true;
}

// Runs the symbolizer with `input` on stdin and returns its stdout.
std::string run(const std::string& tool, const std::string& module, const std::string& input) {
  Child c;
  if (!spawn(tool, module, true, &c)) return "";
  // Written from another thread: a large input would otherwise fill both pipes and block both sides.
  std::thread writer([&] {
    for (std::size_t done = 0; done < input.size();) {
      ssize_t n = write(c.to, input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += std::size_t(n);
    }
    close(c.to);
  });
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(c.from, buf, sizeof buf)) > 0;) out.append(buf, std::size_t(n));
  writer.join();
  close(c.from);
  int status = 0;
  waitpid(c.pid, &status, 0);
  return out;
}

bool system_header(const std::string& file) {
  return file.rfind("/usr/include/", 0) == 0 || file.rfind("/usr/lib/", 0) == 0;
}

// A "DATA" answer: the variable's name, then "start size" (decimal).
struct DataSymbol {
  std::string name;  // "" when unknown
  unsigned long long start = 0, size = 0;
};

DataSymbol parse_data_answer(std::string name, const std::string& range) {
  DataSymbol d;
  if (name.empty() || name == "??") return d;
  // "(anonymous namespace)::" says nothing a reader needs next to a file and line.
  for (std::size_t at; (at = name.find("(anonymous namespace)::")) != std::string::npos;) name.erase(at, 23);
  d.name = std::move(name);
  std::sscanf(range.c_str(), "%llu %llu", &d.start, &d.size);
  return d;
}

// The load base to add to a recorded offset: 0 for position-independent modules.
std::uint64_t module_base(const TraceFile& file, const std::string& module) {
  std::uint64_t base = 0;
  if (is_position_dependent(module)) {
    for (const auto& [id, s] : file.sites()) {
      if (s.module == module && s.pc > s.module_offset) base = s.pc - s.module_offset;
    }
  }
  return base;
}

// Global variables (lock names): "DATA addr" queries answer the variable's name, then its
// start and size, then a blank line.
void symbolize_data(TraceFile& file, const std::string& tool, const std::string& module, std::uint64_t base,
                    const std::vector<std::pair<std::uint32_t, std::uint64_t>>& sites) {
  std::string input;
  for (const auto& [id, offset] : sites) {
    char line[48];
    std::snprintf(line, sizeof line, "DATA 0x%llx\n", static_cast<unsigned long long>(base + offset));
    input += line;
  }
  std::istringstream out(run(tool, module, input));
  for (const auto& [id, offset] : sites) {
    std::string name, range, rest;
    if (!std::getline(out, name) || !std::getline(out, range)) break;
    while (std::getline(out, rest) && !rest.empty()) {
    }
    DataSymbol d = parse_data_answer(std::move(name), range);
    if (d.name.empty()) continue;
    file.resolve_site(id, "", 0, d.name);
    std::uint64_t address = base + offset;
    if (d.start != 0 && address >= d.start) file.set_data_extent(id, address - d.start, d.size);
  }
}

}  // namespace

GlobalNames::~GlobalNames() {
  for (auto& [module, s] : running_) {
    if (s.to >= 0) close(s.to);
    if (s.from != nullptr) std::fclose(static_cast<FILE*>(s.from));
    if (s.pid > 0) waitpid(s.pid, nullptr, 0);
  }
}

GlobalNames::Symbolizer* GlobalNames::symbolizer_for(const std::string& module) {
  auto it = running_.find(module);
  if (it != running_.end()) return it->second.pid > 0 ? &it->second : nullptr;
  Symbolizer& s = running_[module];
  std::string tool = symbolizer_path();
  if (tool.empty() || tool == "none") return nullptr;
  Child c;
  if (!spawn(tool, module, false, &c)) return nullptr;
  s.pid = c.pid;
  s.to = c.to;
  s.from = fdopen(c.from, "r");
  return &s;
}

std::string GlobalNames::name(const std::vector<Module>& modules, std::uint64_t address) {
  auto cached = cache_.find(address);
  if (cached != cache_.end()) return cached->second;
  std::string& result = cache_[address];
  const Module* m = nullptr;
  for (const Module& candidate : modules) {
    if (address >= candidate.low && address < candidate.high) m = &candidate;
  }
  if (m == nullptr) return result;
  Symbolizer* s = symbolizer_for(m->path);
  if (s == nullptr) return result;
  char query[48];
  int n = std::snprintf(query, sizeof query, "DATA 0x%llx\n", static_cast<unsigned long long>(address - m->bias));
  if (write(s->to, query, std::size_t(n)) != n) return result;
  // The answer: the symbol, then "start size", then a blank line.
  char line[4096];
  std::string lines[2];
  for (int i = 0; std::fgets(line, sizeof line, static_cast<FILE*>(s->from)) != nullptr; ++i) {
    std::string l(line);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
    if (l.empty()) break;
    if (i < 2) lines[i] = std::move(l);
  }
  DataSymbol d = parse_data_answer(std::move(lines[0]), lines[1]);
  if (d.name.empty()) return result;
  std::uint64_t offset = address - m->bias - d.start;
  result = offset != 0 && offset < d.size ? d.name + "+" + std::to_string(offset) : d.name;
  return result;
}

bool is_system_module(const std::string& module) {
  return module.rfind("/lib", 0) == 0 || module.rfind("/usr/lib", 0) == 0 ||
         module.find("liblockgraph_rt") != std::string::npos;
}

void symbolize_pc_sites(TraceFile& file) {
  // Code addresses to resolve: each return-address site (caller = -1) and its caller frames.
  struct CodeQuery {
    std::uint32_t site;
    int caller;
    std::uint64_t offset;
  };
  std::map<std::string, std::vector<CodeQuery>> code_by_module;
  std::map<std::string, std::vector<std::pair<std::uint32_t, std::uint64_t>>> data_by_module;
  for (const auto& [id, site] : file.sites()) {
    if (site.module.empty()) continue;
    if (site.data) {
      if (site.function.empty()) data_by_module[site.module].push_back({id, site.module_offset});
      continue;
    }
    if (site.line == 0) code_by_module[site.module].push_back({id, -1, site.module_offset});
    for (std::size_t c = 0; c < site.callers.size(); ++c) {
      if (!site.callers[c].module.empty() && site.callers[c].line == 0) {
        code_by_module[site.callers[c].module].push_back({id, int(c), site.callers[c].offset});
      }
    }
  }
  if (code_by_module.empty() && data_by_module.empty()) return;
  std::string tool = symbolizer_path();
  if (tool.empty() || tool == "none") return;
  for (const auto& [module, sites] : data_by_module) symbolize_data(file, tool, module, module_base(file, module), sites);
  for (const auto& [module, queries] : code_by_module) {
    // The recorded offset is relative to the mapping's base; an ET_EXEC wants the address.
    std::uint64_t base = module_base(file, module);
    std::string input;
    for (const CodeQuery& q : queries) {
      char line[40];
      // A return address points after the call; the call is the byte before it.
      std::snprintf(line, sizeof line, "0x%llx\n", static_cast<unsigned long long>(base + q.offset - 1));
      input += line;
    }
    std::istringstream out(run(tool, module, input));
    // Output: per address, pairs of lines (function, file:line:column) per inlined frame, then
    // a blank line.
    for (const CodeQuery& q : queries) {
      std::string function, location, best_function, best_file;
      unsigned best_line = 0;
      bool chosen = false;
      while (std::getline(out, function) && !function.empty()) {
        if (!std::getline(out, location)) break;
        auto c2 = location.rfind(':');
        auto c1 = c2 == std::string::npos ? std::string::npos : location.rfind(':', c2 - 1);
        if (c1 == std::string::npos) continue;
        // clang writes header paths as /usr/bin/../lib/gcc/...: compare and show them resolved.
        std::string f = std::filesystem::path(location.substr(0, c1)).lexically_normal().string();
        unsigned l = unsigned(std::strtoul(location.c_str() + c1 + 1, nullptr, 10));
        if (chosen || f == "??" || l == 0) continue;
        best_function = function;
        best_file = f;
        best_line = l;
        chosen = !system_header(f);  // keep looking outward past std:: internals
      }
      if (best_line == 0) continue;
      if (q.caller < 0) {
        file.resolve_site(q.site, best_file, best_line, best_function);
      } else {
        file.resolve_caller(q.site, std::size_t(q.caller), best_file, best_line, best_function);
      }
    }
  }
}

}  // namespace lockgraph::analysis
