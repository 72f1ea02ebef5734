// The CI gate: fail-on kinds, suppressions and baselines.
#include "lockgraph/analyzer/gate.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lockgraph::analysis {

std::set<std::string> default_fail_on() {
  std::set<std::string> out;
  for (auto k : kAllKinds) {
    if (k != kLockOrderInversion && k != kUnprotectedWrite) out.emplace(k);
  }
  return out;
}

bool parse_fail_on(const std::string& text, std::set<std::string>* out, std::string* error) {
  out->clear();
  if (text == "none") return true;
  if (text == "all") {
    for (auto k : kAllKinds) out->emplace(k);
    return true;
  }
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    bool known = false;
    for (auto k : kAllKinds) known = known || k == item;
    if (!known) {
      std::string list;
      for (auto k : kAllKinds) list += std::string(list.empty() ? "" : ", ") + std::string(k);
      *error = "unknown finding kind '" + item + "' in --fail-on (kinds: " + list + ", or all / none)";
      return false;
    }
    out->insert(item);
  }
  return true;
}

bool glob_match(std::string_view p, std::string_view t) {
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

namespace {
bool type_covers(const std::string& type, const std::string& kind) {
  if (type == kind) return true;
  if (type == "deadlock") {
    return kind == kDeadlockPotential || kind == kLockOrderInversion || kind == kDeadlockActual || kind == kDeadlockStatic ||
           kind == kHierarchyViolation || kind == kDeadlockPredicted;
  }
  if (type == "race") return kind == kDataRace || kind == kUnprotectedWrite;
  if (type == "misuse") return kind == kLockMisuse;
  return false;
}

bool known_type(const std::string& type) {
  if (type == "deadlock" || type == "race" || type == "misuse") return true;
  for (auto k : kAllKinds) {
    if (k == type) return true;
  }
  return false;
}

bool matches(const Suppression& s, const Finding& f) {
  if (!type_covers(s.type, f.kind)) return false;
  for (const Location& l : f.locations) {
    std::string base = std::filesystem::path(l.file).filename().string();
    if (glob_match(s.pattern, l.file) || glob_match(s.pattern, base) || glob_match(s.pattern, l.function) ||
        glob_match(s.pattern, base + ":" + std::to_string(l.line)) ||
        glob_match(s.pattern, l.file + ":" + std::to_string(l.line))) {
      return true;
    }
  }
  for (const std::string& o : f.objects) {
    if (glob_match(s.pattern, o)) return true;
  }
  return false;
}
}  // namespace

bool load_suppressions(const std::string& path, std::vector<Suppression>* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open suppression file";
    return false;
  }
  std::string line;
  unsigned n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    auto last = line.find_last_not_of(" \t\r");
    line = line.substr(first, last - first + 1);
    auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
      *error = path + ":" + std::to_string(n) + ": expected TYPE:PATTERN, got '" + line + "'";
      return false;
    }
    Suppression s{line.substr(0, colon), line.substr(colon + 1), n, 0};
    if (!known_type(s.type)) {
      *error = path + ":" + std::to_string(n) + ": unknown suppression type '" + s.type +
               "' (deadlock, race, misuse, or a finding kind)";
      return false;
    }
    out->push_back(std::move(s));
  }
  return true;
}

bool load_baseline(const std::string& path, std::set<std::string>* out, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open baseline file";
    return false;
  }
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (!j.is_object() || j.value("lockgraph_baseline", 0) != 1 || !j.contains("fingerprints")) {
      *error = path + ": not a lockgraph baseline (expected {\"lockgraph_baseline\": 1, \"fingerprints\": [...]})";
      return false;
    }
    for (const auto& item : j["fingerprints"]) {
      out->insert(item.is_string() ? item.get<std::string>() : item.at("fingerprint").get<std::string>());
    }
  } catch (const std::exception& e) {
    *error = path + ": invalid baseline JSON: " + e.what();
    return false;
  }
  return true;
}

bool write_baseline(const std::string& path, const std::vector<Finding>& findings, std::string* error) {
  nlohmann::json j;
  j["lockgraph_baseline"] = 1;
  j["fingerprints"] = nlohmann::json::array();
  std::set<std::string> seen;
  for (const Finding& f : findings) {
    if (!seen.insert(f.fingerprint).second) continue;
    j["fingerprints"].push_back({{"fingerprint", f.fingerprint}, {"kind", f.kind}, {"message", f.message}});
  }
  std::ofstream out(path, std::ios::trunc);
  if (!out) {
    *error = path + ": cannot write baseline file";
    return false;
  }
  out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return bool(out);
}

GateOutcome apply_gate(const std::vector<Finding>& findings, GateConfig& config) {
  GateOutcome g;
  for (const Finding& f : findings) {
    Disposition d = config.fail_on.count(f.kind) ? Disposition::kFails : Disposition::kReported;
    for (Suppression& s : config.suppressions) {
      if (matches(s, f)) {
        ++s.matched;
        d = Disposition::kSuppressed;
      }
    }
    if (d != Disposition::kSuppressed && config.baseline.count(f.fingerprint)) d = Disposition::kBaselined;
    if (d == Disposition::kFails) ++g.failing;
    g.disposition.push_back(d);
  }
  for (const Suppression& s : config.suppressions) {
    if (s.matched == 0) g.stale.push_back(s);
  }
  return g;
}

}  // namespace lockgraph::analysis
