// `lockgraph dump`: every event of a trace in the text form, or counts with --stats.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "commands.hpp"
#include "lockgraph/analyzer/trace_set.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

namespace {

struct DumpOptions {
  std::vector<std::string> traces;
  bool stats = false;
  std::string order = "replay";
  std::size_t top = 10;
};

void print_process_lines(const TraceSet& set) {
  for (std::size_t i = 0; i < set.processes().size(); ++i) {
    const ProcessInfo& p = set.processes()[i];
    std::printf("process %zu pid=%llu ppid=%llu fork=%llu program=\"%s\" trailer=%s\n", i,
                static_cast<unsigned long long>(p.pid), static_cast<unsigned long long>(p.ppid),
                static_cast<unsigned long long>(p.fork_id), p.program.c_str(), p.has_trailer ? "yes" : "no");
  }
}

int run_dump(const DumpOptions& o) {
  Problem fatal;
  auto set = TraceSet::open(o.traces, &fatal);
  if (!set) return fail(fatal.message());
  auto strings = [&](std::uint32_t p, std::uint32_t id) { return set->string(p, id); };
  auto sites = [&](std::uint32_t p, std::uint32_t id) { return set->site(p, id); };

  if (o.stats) {
    std::map<std::string, std::uint64_t> by_kind;
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> by_thread;
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::uint64_t> by_object;
    std::uint64_t total = 0;
    set->for_each_in_program_order([&](const Event& e) {
      ++total;
      ++by_kind[std::string(kind_name(e.kind))];
      ++by_thread[{e.process, e.thread}];
      if (e.object != 0 && e.kind != Kind::kRead && e.kind != Kind::kWrite) ++by_object[{e.process, e.object}];
    });
    std::printf("events: %llu in %zu process(es)\n", static_cast<unsigned long long>(total), set->processes().size());
    std::printf("\nby kind:\n");
    for (const auto& [k, n] : by_kind) std::printf("  %-20s %12llu\n", k.c_str(), static_cast<unsigned long long>(n));
    std::printf("\nby thread:\n");
    for (const auto& [t, n] : by_thread) {
      std::printf("  %u:%-18u %12llu\n", t.first, t.second, static_cast<unsigned long long>(n));
    }
    std::vector<std::pair<std::uint64_t, std::pair<std::uint32_t, std::uint64_t>>> objs;
    for (const auto& [obj, n] : by_object) objs.push_back({n, obj});
    std::sort(objs.rbegin(), objs.rend());
    std::printf("\nby object (top %zu of %zu, synchronization objects):\n", std::min(o.top, objs.size()), objs.size());
    for (std::size_t i = 0; i < objs.size() && i < o.top; ++i) {
      std::printf("  %u:0x%-16llx %12llu\n", objs[i].second.first, static_cast<unsigned long long>(objs[i].second.second),
                  static_cast<unsigned long long>(objs[i].first));
    }
  } else {
    std::printf("# lockgraph trace v1, text form\n");
    print_process_lines(*set);
    auto print = [&](const Event& e) { std::printf("%s\n", format_event(e, strings, sites).c_str()); };
    if (o.order == "program") {
      set->for_each_in_program_order(print);
    } else {
      set->replay(print);
    }
  }
  for (const Problem& p : set->problems()) warn(p.message());
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

Runner add_dump(CLI::App& app) {
  auto o = std::make_shared<DumpOptions>();
  CLI::App* cmd = app.add_subcommand("dump", "Print every event of a trace in the text form (one event per line).");
  cmd->footer(
      "TRACE is a trace directory (every *.trace file in it), trace files, or one text-form trace.\n"
      "The output is itself a text-form trace: `lockgraph analyze` accepts it.\n"
      "Damage in a trace is reported on stderr (file, byte offset, reason); everything readable is printed.\n"
      "Exit codes: 0 printed (possibly with warnings), 2 usage error or unreadable input.");
  cmd->add_option("trace", o->traces, "Trace directory or files")->required();
  cmd->add_flag("--stats", o->stats, "Count events by kind, thread and object instead of printing them");
  cmd->add_option("--order", o->order,
                  "replay: one happens-before-consistent interleaving of all threads (default); "
                  "program: thread by thread")
      ->check(CLI::IsMember({"replay", "program"}));
  cmd->add_option("--top", o->top, "With --stats: how many objects to list")->check(CLI::PositiveNumber);
  return [o] { return run_dump(*o); };
}

}  // namespace lockgraph::cli
