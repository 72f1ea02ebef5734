// `lockgraph explain FINDING TRACE...`: the witness schedule of a predicted deadlock, one column
// per thread, so the interleaving that reaches the deadlock can be read (and replayed) by hand.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>

#include "commands.hpp"

namespace lockgraph::cli {

using namespace lockgraph::analysis;

namespace {

std::string site(const ScheduleStep& s) { return s.line ? s.file + ":" + std::to_string(s.line) : s.file; }

// In the table, files by their last component: the report has the full paths.
std::string short_site(const ScheduleStep& s) {
  std::string file = s.file.substr(s.file.rfind('/') == std::string::npos ? 0 : s.file.rfind('/') + 1);
  return s.line ? file + ":" + std::to_string(s.line) : file;
}

std::string lock_of(const std::string& operation) {  // "acq(A)" -> "A"
  auto open = operation.find('(');
  return open == std::string::npos ? operation : operation.substr(open + 1, operation.size() - open - 2);
}

std::string render_schedule(const Finding& f) {
  std::ostringstream o;
  o << f.kind << " " << f.fingerprint << ": " << draw_cycle(f.cycle) << "\n\n"
    << "A schedule that reaches it: the recorded run reordered, every lock's critical sections still in\n"
    << "their recorded order. Lock operations, fork and join only; each thread runs its other events in\n"
    << "between as it did in the run.\n";
  if (f.witness_omitted > 0) o << "(" << f.witness_omitted << " earlier lock operations, in the same order, are not shown.)\n";
  std::vector<std::string> threads;
  for (const ScheduleStep& s : f.witness) {
    if (std::find(threads.begin(), threads.end(), s.thread) == threads.end()) threads.push_back(s.thread);
  }
  std::vector<std::size_t> width(threads.size());
  auto cell = [](const ScheduleStep& s) { return s.operation + "  " + short_site(s) + (s.blocked ? "  BLOCKS" : ""); };
  for (std::size_t c = 0; c < threads.size(); ++c) width[c] = threads[c].size();
  for (const ScheduleStep& s : f.witness) {
    std::size_t c = static_cast<std::size_t>(std::find(threads.begin(), threads.end(), s.thread) - threads.begin());
    width[c] = std::max(width[c], std::min<std::size_t>(cell(s).size(), 48));
  }
  const std::size_t num_w = std::max<std::size_t>(4, std::to_string(f.witness_omitted + f.witness.size()).size());
  auto pad = [](const std::string& s, std::size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); };
  o << "\n" << pad("step", num_w);
  for (std::size_t c = 0; c < threads.size(); ++c) o << "  " << pad(threads[c], width[c]);
  o << "\n";
  for (std::size_t i = 0; i < f.witness.size(); ++i) {
    const ScheduleStep& s = f.witness[i];
    std::size_t col = static_cast<std::size_t>(std::find(threads.begin(), threads.end(), s.thread) - threads.begin());
    o << pad(std::to_string(f.witness_omitted + i + 1), num_w);
    for (std::size_t c = 0; c < col; ++c) o << "  " << std::string(width[c], ' ');
    o << "  " << cell(s) << "\n";
  }
  o << "\nThen:";
  // What each thread holds when it blocks, replayed from the schedule itself.
  std::map<std::string, std::vector<std::string>> held;
  for (const ScheduleStep& s : f.witness) {
    auto& mine = held[s.thread];
    if (!s.blocked) {
      if (s.operation.rfind("acq(", 0) == 0) mine.push_back(lock_of(s.operation));
      if (s.operation.rfind("rel(", 0) == 0) {
        auto it = std::find(mine.rbegin(), mine.rend(), lock_of(s.operation));
        if (it != mine.rend()) mine.erase(std::next(it).base());
      }
      continue;
    }
    std::string holds;
    for (const std::string& l : mine) holds += (holds.empty() ? "" : ", ") + l;
    o << "\n  " << s.thread << " holds " << (holds.empty() ? "nothing" : holds) << " and waits for "
      << lock_of(s.operation) << " at " << site(s);
  }
  o << "\nNo thread of the cycle can go on: deadlock.\n";
  if (!f.advice.empty()) o << "\nFix: " << f.advice << "\n";
  return o.str();
}

}  // namespace

Runner add_explain(CLI::App& app) {
  auto o = std::make_shared<AnalyzeOptions>();
  auto finding = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("explain", "Print the schedule that reaches a predicted deadlock.");
  cmd->footer(
      "FINDING: the id (fingerprint, or its first 4+ characters) of a deadlock_predicted finding, as\n"
      "printed by `lockgraph analyze`, or its number among them (1 = the first). TRACE: what analyze\n"
      "read — a trace directory or files (deadlock prediction is switched on), or one STD file with\n"
      "--input-format std.\n\n"
      "  lockgraph analyze --input-format std run.std          # ... id: 3f2a9c1e...\n"
      "  lockgraph explain 3f2a --input-format std run.std\n\n"
      "Exit codes: 0 printed, 2 no such finding, usage or input error.");
  cmd->add_option("finding", *finding, "Finding id (prefix) or number")->required();
  cmd->add_option("trace", o->traces, "Trace directory or files, or one STD file")->required();
  cmd->add_option("--input-format", o->input_format, "lockgraph (default) or std")
      ->check(CLI::IsMember({"lockgraph", "std"}));
  return [o, finding] {
    o->predict_deadlocks = true;
    AnalysisResult result;
    std::size_t processes = 1;
    std::string scope;
    if (int code = compute_analysis(*o, &result, &processes, &scope); code != kExitOk) return code;
    std::vector<const Finding*> explained;
    for (const Finding& f : result.findings) {
      if (!f.witness.empty()) explained.push_back(&f);
    }
    if (explained.empty()) return fail("no predicted deadlock in " + o->traces[0] + " (nothing to explain)");
    const Finding* pick = nullptr;
    const std::string& want = *finding;
    bool number = !want.empty() && want.size() < 4 && std::all_of(want.begin(), want.end(), ::isdigit);
    if (number) {
      std::size_t n = std::stoul(want);
      if (n >= 1 && n <= explained.size()) pick = explained[n - 1];
    } else {
      for (const Finding* f : explained) {
        if (want.size() >= 4 && f->fingerprint.rfind(want, 0) == 0) pick = f;
      }
    }
    if (pick == nullptr) {
      std::string ids;
      for (const Finding* f : explained) ids += (ids.empty() ? "" : ", ") + f->fingerprint.substr(0, 8);
      return fail("no predicted deadlock " + want + " (there are " + std::to_string(explained.size()) + ": " + ids + ")");
    }
    std::string text = render_schedule(*pick);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  };
}

}  // namespace lockgraph::cli
