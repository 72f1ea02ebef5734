// STD -> lockgraph's text form (see std_convert.hpp): the other direction of the round trip.
#include <algorithm>
#include <cctype>
#include <ostream>
#include <unordered_map>
#include <unordered_set>

#include "lockgraph/analyzer/predictive.hpp"
#include "lockgraph/analyzer/std_convert.hpp"
#include "lockgraph/analyzer/text_form.hpp"

namespace lockgraph::analysis {

struct StdToText::State {
  std::vector<std::uint64_t> tid;         // per STD thread id; 0 = not seen
  std::unordered_set<std::uint64_t> used;  // tids given out
  std::uint64_t next_free = 1'000'000;
  std::vector<bool> lock_seen, var_seen, ended;
};

StdToText::StdToText(const StdTrace& names, const std::string& std_name, std::ostream& out)
    : names_(names), std_name_(std_name), out_(out), s_(std::make_unique<State>()) {
  out_ << "# converted from the STD trace " << std_name << " by lockgraph convert --to lockgraph\n"
       << "process 0 pid=1 ppid=0 fork=0 program=" << quote_if_needed(std_name) << " trailer=yes\n";
}

StdToText::~StdToText() = default;

// "T<digits>" keeps its number (so lockgraph -> STD -> lockgraph gives the threads their ids
// back); any other name gets a fresh id and a thread_name event.
std::uint64_t StdToText::thread(std::uint32_t id) {
  State& s = *s_;
  if (s.tid.size() <= id) s.tid.resize(id + 1, 0), s.ended.resize(id + 1, false);
  if (s.tid[id] != 0) return s.tid[id];
  const std::string& name = names_.threads[id];
  std::uint64_t t = 0;
  bool numbered = name.size() > 1 && name.size() < 12 && name[0] == 'T' &&
                  std::all_of(name.begin() + 1, name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (numbered) t = std::stoull(name.substr(1));
  if (t == 0 || s.used.count(t)) {
    while (s.used.count(s.next_free)) ++s.next_free;
    t = s.next_free++;
    s.used.insert(t);
    s.tid[id] = t;
    out_ << t << " thread_name name=" << quote_if_needed(name) << "\n";
    return t;
  }
  s.used.insert(t);
  return s.tid[id] = t;
}

std::string StdToText::at(std::uint32_t location) const {
  Location l = std_location(names_, location, std_name_);
  return " at=" + quote_if_needed(l.file + ":" + std::to_string(l.line));
}

void StdToText::on_event(const StdEvent& e) {
  State& s = *s_;
  const std::uint64_t t = thread(e.thread);
  auto lock_id = [&](std::uint32_t l) {
    if (s.lock_seen.size() <= l) s.lock_seen.resize(l + 1, false);
    if (!s.lock_seen[l]) {
      s.lock_seen[l] = true;
      out_ << t << " lock_create obj=" << (l + 1) << " type=mutex name=" << quote_if_needed(names_.locks[l]) << "\n";
    }
    return l + 1;
  };
  // One 8-byte variable per STD variable, 16 bytes apart, named.
  auto address = [&](std::uint32_t v) {
    const std::uint64_t a = 0x10000 + 16 * std::uint64_t(v);
    if (s.var_seen.size() <= v) s.var_seen.resize(v + 1, false);
    if (!s.var_seen[v]) {
      s.var_seen[v] = true;
      out_ << t << " var_name obj=" << a << " value=8 name=" << quote_if_needed(names_.variables[v]) << "\n";
    }
    return a;
  };
  switch (e.op) {
    case StdOp::kAcquire: {
      auto l = lock_id(e.target);
      out_ << t << " lock_acquired obj=" << l << at(e.location) << "\n";
      break;
    }
    case StdOp::kRelease: {
      auto l = lock_id(e.target);
      out_ << t << " lock_release obj=" << l << at(e.location) << "\n";
      break;
    }
    case StdOp::kRead: {
      auto a = address(e.target);
      out_ << t << " read obj=" << a << " size=8" << at(e.location) << "\n";
      break;
    }
    case StdOp::kWrite: {
      auto a = address(e.target);
      out_ << t << " write obj=" << a << " size=8" << at(e.location) << "\n";
      break;
    }
    case StdOp::kFork: {
      const std::uint64_t child = thread(e.target);
      out_ << t << " thread_create obj=" << child << at(e.location) << "\n" << child << " thread_start obj=" << t << "\n";
      break;
    }
    case StdOp::kJoin: {
      const std::uint64_t child = thread(e.target);
      if (!s.ended[e.target]) out_ << child << " thread_end\n", s.ended[e.target] = true;
      out_ << t << " thread_join obj=" << child << at(e.location) << "\n";
      break;
    }
    case StdOp::kBegin:
    case StdOp::kEnd: ++dropped_; break;
  }
}

}  // namespace lockgraph::analysis
