// Symbolization of pc sites (return addresses recorded where no file:line was available: thread
// creation, pool submission, shared<T> operators) into file:line and function.
//
// Code addresses: LLVM's llvm-symbolizer (Debian package llvm-14) as one subprocess for every
// module of every process, all addresses on its stdin; the frame reported is the innermost one
// outside system headers, so a std::vector::emplace_back that created a thread is shown at the
// caller's line. Data addresses (global variables): the module's ELF symbol table, read in
// process (libelf). Set LOCKGRAPH_SYMBOLIZER to another symbolizer binary, or to "none" to keep
// module+offset.
// Cost: one symbolizer process per analysis, when there are code sites. Missing tool or debug
// info: sites stay as they were.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lockgraph/analyzer/trace_reader.hpp"

namespace lockgraph::analysis {

// The llvm-symbolizer process, started ahead of need: it spends ~0.1 s loading LLVM's libraries,
// which can overlap the scan of the trace files. Asked once; one that is never asked is killed
// (waiting for it to load only to read the end of its input cost that 0.1 s for nothing).
// Nothing is started with LOCKGRAPH_SYMBOLIZER=none or no tool.
class SymbolizerProcess {
 public:
  SymbolizerProcess();
  ~SymbolizerProcess();
  SymbolizerProcess(const SymbolizerProcess&) = delete;
  SymbolizerProcess& operator=(const SymbolizerProcess&) = delete;
  // Sends `input`, returns everything the symbolizer printed ("" without a process), and ends it.
  std::string ask(const std::string& input);

 private:
  void finish();
  int pid_ = -1, to_ = -1, from_ = -1;
  bool asked_ = false;
};

// Which return-address sites are named: every one (`dump`, `convert`), or those a report can
// show (`analyze`). A thread's creation site is shown in no report, and in a program built with
// the wrappers it is often the only return address: naming it cost the symbolizer's start.
enum class SiteNames { kEvery, kShownInReports };

// Each module's ELF data symbols and DWARF member paths, read at most once for a whole run: the
// names of locks in globals (symbolize_pc_sites) and of racing globals (GlobalNames) share them.
// Cost: a module's symbol table, and its DWARF index (46 ms for a 74 MB binary) when a member
// path is asked; both kept until the object ends. Not thread-safe.
class ElfDataSymbols;
class DwarfMemberPaths;
class ModuleDataNames {
 public:
  ModuleDataNames();
  ~ModuleDataNames();
  ModuleDataNames(const ModuleDataNames&) = delete;
  ModuleDataNames& operator=(const ModuleDataNames&) = delete;
  const ElfDataSymbols& symbols(const std::string& module);
  DwarfMemberPaths& members(const std::string& module);

 private:
  std::map<std::string, std::unique_ptr<ElfDataSymbols>> symbols_;
  std::map<std::string, std::unique_ptr<DwarfMemberPaths>> members_;
};

// Resolves the pc and data sites of every file (the processes of one run) in place; code
// addresses are asked of `symbolizer` (started before the files were scanned), data addresses
// looked up in `data_names`.
void symbolize_pc_sites(const std::vector<TraceFile*>& files, SymbolizerProcess& symbolizer,
                        ModuleDataNames& data_names, SiteNames which = SiteNames::kEvery);

// Modules the user did not write: the system's (libc, libstdc++) and lockgraph's own runtime.
bool is_system_module(const std::string& module);
// Source files the user did not write either: system headers (/usr/include, the compiler's under
// /usr/lib) and lockgraph's own headers, installed or in a source tree (the wrappers' inlined
// code). A report names sites and callers only in the program's own files (the rest add nothing
// at 2 a.m.); other files under /usr — a program built in /usr/src/app — are the program's.
bool is_programs_own_source(const std::string& file);

// Names global variables by address for the race reports of instrumented programs: "counter",
// and the part of an aggregate from debug info ("accounts[1].balance", "stats.hits"), else the
// byte offset ("cells+8"). From each module's symbol table and DWARF (`data_names`, which must
// outlive this); answers are cached per address, so one object serves one process's addresses.
// "" when the address is in no recorded module (heap, stack) or has no symbol.
class GlobalNames {
 public:
  explicit GlobalNames(ModuleDataNames& data_names);
  GlobalNames(const GlobalNames&) = delete;
  GlobalNames& operator=(const GlobalNames&) = delete;
  std::string name(const std::vector<Module>& modules, std::uint64_t address);

 private:
  bool off_;  // LOCKGRAPH_SYMBOLIZER=none
  ModuleDataNames& data_names_;
  std::map<std::uint64_t, std::string> cache_;
};

}  // namespace lockgraph::analysis
