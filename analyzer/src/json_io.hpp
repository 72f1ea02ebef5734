// Internal: what saved graphs (saved_graph.cpp) and saved scans (static_graph.cpp) share — a
// Location as JSON (`thread` and `stack` only when present; `role` is not stored, the reader knows
// it), and whole versioned documents read and written with one-line errors naming the file.
#pragma once

#include <fstream>
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

// Parses `path` and checks that it is an object tagged `tag: version`. `what` names the kind of
// document ("saved scan"), `made_by` the command that writes it. False with *error.
inline bool load_versioned_json(const std::string& path, const char* tag, int version, const std::string& what,
                                const std::string& made_by, nlohmann::json* doc, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot open";
    return false;
  }
  try {
    *doc = nlohmann::json::parse(in);
    if (!doc->is_object() || !doc->contains(tag)) {
      *error = path + ": not a " + what + " (no \"" + tag + "\" version; made by " + made_by + "?)";
      return false;
    }
    int found = doc->at(tag).get<int>();
    if (found != version) {
      *error = path + ": " + what + " version " + std::to_string(found) + " is not supported (this lockgraph reads version " +
               std::to_string(version) + ")";
      return false;
    }
    return true;
  } catch (const nlohmann::json::exception& ex) {
    *error = path + ": malformed " + what + ": " + ex.what();
    return false;
  }
}

inline bool save_json(const std::string& path, const nlohmann::json& doc, std::string* error) {
  std::ofstream out(path, std::ios::trunc);
  out << doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace lockgraph::analysis
