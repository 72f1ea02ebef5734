// The CI gate: which findings fail the run (--fail-on), which are suppressed (--suppress FILE),
// which were already accepted (--baseline FILE).
//
// Suppression file: one rule per line, `TYPE:PATTERN`, `#` comments. TYPE is a finding kind
// (deadlock_potential, data_race, ...) or a family as in ThreadSanitizer's files: `deadlock`
// (deadlock_potential, lock_order_inversion, deadlock_actual), `race` (data_race,
// unprotected_write), `misuse` (lock_misuse). PATTERN is a glob (`*`, `?`) matched against each
// location's file, file basename, file:line and function, and each object (lock or variable)
// name. A rule that matched nothing is reported as stale.
// Baseline file: JSON {"lockgraph_baseline": 1, "fingerprints": [{"fingerprint": ..., ...}]}.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "lockgraph/analyzer/analysis.hpp"

namespace lockgraph::analysis {

struct Suppression {
  std::string type;
  std::string pattern;
  unsigned line = 0;
  std::uint64_t matched = 0;
};

struct GateConfig {
  std::set<std::string> fail_on;  // finding kinds that fail the gate
  std::vector<Suppression> suppressions;
  std::set<std::string> baseline;  // accepted fingerprints
};

enum class Disposition { kFails, kReported, kSuppressed, kBaselined };

struct GateOutcome {
  std::vector<Disposition> disposition;  // per finding, same order
  std::vector<Suppression> stale;
  std::size_t failing = 0;
  bool failed() const { return failing > 0; }
};

std::set<std::string> default_fail_on();
// Parses "kind,kind", "all", "none"; false with *error on an unknown kind.
bool parse_fail_on(const std::string& text, std::set<std::string>* out, std::string* error);
bool load_suppressions(const std::string& path, std::vector<Suppression>* out, std::string* error);
bool load_baseline(const std::string& path, std::set<std::string>* out, std::string* error);
bool write_baseline(const std::string& path, const std::vector<Finding>& findings, std::string* error);
bool glob_match(std::string_view pattern, std::string_view text);

GateOutcome apply_gate(const std::vector<Finding>& findings, GateConfig& config);

}  // namespace lockgraph::analysis
