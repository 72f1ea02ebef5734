// Internal: a Location as JSON, the one form saved graphs and saved scans share.
// `thread` and `stack` are written only when present; `role` is not stored (the reader knows it).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "lockgraph/analyzer/finding.hpp"

namespace lockgraph::analysis {

inline nlohmann::json location_json(const Location& l) {
  nlohmann::json j{{"file", l.file}, {"line", l.line}, {"function", l.function}};
  if (!l.thread.empty()) j["thread"] = l.thread;
  if (!l.stack.empty()) j["stack"] = l.stack;
  return j;
}

// Throws nlohmann::json::exception on a missing or mistyped member.
inline Location location_from_json(const nlohmann::json& j, std::string role) {
  Location l;
  l.file = j.at("file").get<std::string>();
  l.line = j.at("line").get<unsigned>();
  l.function = j.at("function").get<std::string>();
  if (j.contains("thread")) l.thread = j.at("thread").get<std::string>();
  if (j.contains("stack")) l.stack = j.at("stack").get<std::vector<std::string>>();
  l.role = std::move(role);
  return l;
}

}  // namespace lockgraph::analysis
