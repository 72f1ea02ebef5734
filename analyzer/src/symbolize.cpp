// symbolize_pc_sites: llvm-symbolizer over each module's return addresses; data addresses from
// the modules' symbol tables (elf_data_symbols.hpp) and debug info (dwarf_member_paths.hpp).
#include "lockgraph/analyzer/symbolize.hpp"

#include "dwarf_member_paths.hpp"
#include "elf_data_symbols.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

namespace lockgraph::analysis {
namespace {

bool symbolization_off() {
  const char* env = std::getenv("LOCKGRAPH_SYMBOLIZER");
  return env != nullptr && std::strcmp(env, "none") == 0;
}

std::string symbolizer_path() {
  const char* env = std::getenv("LOCKGRAPH_SYMBOLIZER");
  if (env != nullptr && *env != '\0') return access(env, X_OK) == 0 ? env : "";  // not there: none
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

bool system_header(const std::string& file) {
  return file.rfind("/usr/include/", 0) == 0 || file.rfind("/usr/lib/", 0) == 0;
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

}  // namespace

ModuleDataNames::ModuleDataNames() = default;
ModuleDataNames::~ModuleDataNames() = default;

const ElfDataSymbols& ModuleDataNames::symbols(const std::string& module) {
  std::unique_ptr<ElfDataSymbols>& s = symbols_[module];
  if (!s) s = std::make_unique<ElfDataSymbols>(module);
  return *s;
}

DwarfMemberPaths& ModuleDataNames::members(const std::string& module) {
  std::unique_ptr<DwarfMemberPaths>& m = members_[module];
  if (!m) m = std::make_unique<DwarfMemberPaths>(module);
  return *m;
}

GlobalNames::GlobalNames(ModuleDataNames& data_names) : off_(symbolization_off()), data_names_(data_names) {}

std::string GlobalNames::name(const std::vector<Module>& modules, std::uint64_t address) {
  auto cached = cache_.find(address);
  if (cached != cache_.end()) return cached->second;
  std::string& result = cache_[address];
  const Module* m = nullptr;
  for (const Module& candidate : modules) {
    if (address >= candidate.low && address < candidate.high) m = &candidate;
  }
  if (m == nullptr || off_) return result;
  const DataSymbol* d = data_names_.symbols(m->path).find(address - m->bias);
  if (d == nullptr) return result;
  const std::uint64_t offset = address - m->bias - d->start;
  const std::string member =
      offset < d->size || d->size == 0 ? data_names_.members(m->path).path(d->start, offset) : "";
  result = !member.empty()                  ? d->name + member
           : offset != 0 && offset < d->size ? d->name + "+" + std::to_string(offset)
                                             : d->name;
  return result;
}

bool is_programs_own_source(const std::string& file) {
  return !system_header(file) && file.find("/include/lockgraph/") == std::string::npos;
}

bool is_system_module(const std::string& module) {
  return module.rfind("/lib", 0) == 0 || module.rfind("/usr/lib", 0) == 0 ||
         module.find("liblockgraph_rt") != std::string::npos;
}

SymbolizerProcess::SymbolizerProcess() {
  if (symbolization_off()) return;
  const std::string tool = symbolizer_path();
  if (tool.empty()) return;
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return;
  }
  // posix_spawn, not fork: glibc spawns with CLONE_VFORK, so neither the analyzer's page tables
  // (gigabytes at 10^8 events) are copied nor pthread_atfork handlers run (a traced process that
  // embeds the analyzer, like the tracer tests, otherwise left a trace for every symbolizer child).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  // Each input line names its module (`CODE "path" 0xaddress`): one process answers for all.
  char* const argv[] = {const_cast<char*>(tool.c_str()), const_cast<char*>("--inlining"),
                        const_cast<char*>("--functions=short"), const_cast<char*>("--demangle"), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv, environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  close(in_pipe[0]);
  close(out_pipe[1]);
  if (pid < 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    return;
  }
  pid_ = pid;
  to_ = in_pipe[1];
  from_ = out_pipe[0];
}

SymbolizerProcess::~SymbolizerProcess() { finish(); }

void SymbolizerProcess::finish() {
  if (pid_ < 0) return;
  if (!asked_) kill(pid_, SIGKILL);  // unasked: no need to let it finish loading
  if (to_ >= 0) close(to_);
  close(from_);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = to_ = from_ = -1;
}

std::string SymbolizerProcess::ask(const std::string& input) {
  if (pid_ < 0) return "";
  asked_ = true;
  // Written from another thread: a large input would otherwise fill both pipes and block both sides.
  const int to = to_;
  to_ = -1;
  std::thread writer([&] {
    // A symbolizer that died (or never started: exec failed) closes the pipe: the write must fail
    // with EPIPE, not end the analyzer with SIGPIPE.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    for (std::size_t done = 0; done < input.size();) {
      ssize_t n = write(to, input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += std::size_t(n);
    }
    close(to);
  });
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(from_, buf, sizeof buf)) > 0;) out.append(buf, std::size_t(n));
  writer.join();
  finish();
  return out;
}

void symbolize_pc_sites(const std::vector<TraceFile*>& files, SymbolizerProcess& symbolizer,
                        ModuleDataNames& data_names, SiteNames which) {
  // Code addresses to resolve: each return-address site (caller = -1) and its caller frames, as
  // addresses in their module (the recorded offset plus, for an ET_EXEC, its load address).
  struct CodeQuery {
    TraceFile* file;
    std::uint32_t site;
    int stack;   // which of the site's stacks `caller` is in
    int caller;  // -1: the site itself
    std::uint64_t address;
  };
  struct DataQuery {
    TraceFile* file;
    std::uint32_t site;
    std::uint64_t address;
  };
  std::map<std::string, std::vector<CodeQuery>> code_by_module;
  std::map<std::string, std::vector<DataQuery>> data_by_module;
  for (TraceFile* file : files) {
    std::map<std::string, std::uint64_t> bases;
    auto base_of = [&](const std::string& module) {
      auto it = bases.find(module);
      if (it == bases.end()) it = bases.emplace(module, module_base(*file, module)).first;
      return it->second;
    };
    const std::vector<std::uint32_t>& creations = file->thread_creation_sites();
    auto shown = [&](std::uint32_t id) {
      return which == SiteNames::kEvery || std::find(creations.begin(), creations.end(), id) == creations.end();
    };
    for (const auto& [id, site] : file->sites()) {
      if (site.module.empty() || !shown(id)) continue;
      if (site.data) {
        if (site.function.empty()) data_by_module[site.module].push_back({file, id, base_of(site.module) + site.module_offset});
        continue;
      }
      // A return address points after the call; the call is the byte before it.
      if (site.line == 0) code_by_module[site.module].push_back({file, id, 0, -1, base_of(site.module) + site.module_offset - 1});
      // Callers in system modules are never shown (Model::location), so they are not looked up.
      for (std::size_t st = 0; st < site.stacks.size(); ++st) {
        for (std::size_t c = 0; c < site.stacks[st].frames.size(); ++c) {
          const SiteFrame& f = site.stacks[st].frames[c];
          if (!f.module.empty() && f.line == 0 && !is_system_module(f.module)) {
            code_by_module[f.module].push_back({file, id, int(st), int(c), base_of(f.module) + f.offset - 1});
          }
        }
      }
    }
  }
  if ((code_by_module.empty() && data_by_module.empty()) || symbolization_off()) return;
  for (const auto& [module, queries] : data_by_module) {
    const ElfDataSymbols& symbols = data_names.symbols(module);
    DwarfMemberPaths& members = data_names.members(module);
    for (const DataQuery& q : queries) {
      const DataSymbol* d = symbols.find(q.address);
      if (d == nullptr) continue;
      q.file->resolve_site(q.site, "", 0, d->name);
      q.file->set_data_extent(q.site, q.address - d->start, d->size, members.path(d->start, q.address - d->start));
    }
  }
  if (code_by_module.empty()) return;
  // Every module's addresses to one symbolizer process (it costs ~0.1 s to start here).
  std::string input;
  std::vector<const CodeQuery*> asked;
  for (const auto& [module, queries] : code_by_module) {
    if (module.find('"') != std::string::npos) continue;  // cannot be quoted on the input line
    for (const CodeQuery& q : queries) {
      char address[32];
      std::snprintf(address, sizeof address, " 0x%llx\n", static_cast<unsigned long long>(q.address));
      input += "CODE \"" + module + "\"" + address;
      asked.push_back(&q);
    }
  }
  std::istringstream out(symbolizer.ask(input));
  // Sites named after their caller where their own frames are all library code (Site::by_caller).
  std::vector<const CodeQuery*> by_caller;
  // Output: per address, pairs of lines (function, file:line:column) per inlined frame, then a
  // blank line.
  for (const CodeQuery* q : asked) {
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
      chosen = is_programs_own_source(f);  // keep looking outward past std:: and lockgraph internals
    }
    if (q->caller < 0 && !chosen && q->file->sites().at(q->site).by_caller) by_caller.push_back(q);
    if (best_line == 0) continue;
    if (q->caller < 0) {
      q->file->resolve_site(q->site, best_file, best_line, best_function);
    } else {
      q->file->resolve_caller(q->site, std::size_t(q->stack), std::size_t(q->caller), best_file, best_line, best_function);
    }
  }
  // The first of the caller and the frames above it (up to four) that is the program's own.
  for (const CodeQuery* q : by_caller) {
    const Site& site = q->file->sites().at(q->site);
    if (site.stacks.empty()) continue;
    for (const SiteFrame& f : site.stacks[0].frames) {
      if (f.line == 0 || !is_programs_own_source(f.file)) continue;
      q->file->resolve_site(q->site, f.file, f.line, f.function);
      break;
    }
  }
}

}  // namespace lockgraph::analysis
