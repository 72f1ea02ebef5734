// RacePairs — the races a predictive analysis found, one entry per distinct (variable, pair of
// locations, threads, access kinds), with how many event pairs had it. Internal to predictive/.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>

namespace lockgraph::analysis::predictive {

struct PairKey {
  std::uint32_t variable, first_loc, second_loc, first_thread, second_thread;
  bool first_write, second_write;
  bool operator<(const PairKey& o) const {
    return std::tie(variable, first_loc, second_loc, first_thread, second_thread, first_write, second_write) <
           std::tie(o.variable, o.first_loc, o.second_loc, o.first_thread, o.second_thread, o.first_write, o.second_write);
  }
};

using RacePairs = std::map<PairKey, std::uint64_t>;

}  // namespace lockgraph::analysis::predictive
