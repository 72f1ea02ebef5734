// VectorClock — the happens-before clock of the analyzer (Lamport/Mattern vector clocks, used
// with FastTrack epochs: Flanagan & Freund, "FastTrack: Efficient and Precise Dynamic Race
// Detection", PLDI 2009).
//
// Contract: entry i is the latest known clock of thread i (dense analyzer thread index); missing
// entries are 0. An epoch (t, c) happens-before a clock V iff c <= V[t].
// Cost: join and copy are O(threads); epoch checks are O(1).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lockgraph::analysis {

struct Epoch {
  std::uint32_t thread = 0;
  std::uint32_t clock = 0;  // 0: none
};

class VectorClock {
 public:
  std::uint32_t get(std::uint32_t t) const noexcept { return t < c_.size() ? c_[t] : 0; }
  void set(std::uint32_t t, std::uint32_t v) {
    if (t >= c_.size()) c_.resize(t + 1, 0);
    c_[t] = v;
  }
  void tick(std::uint32_t t) { set(t, get(t) + 1); }
  void join(const VectorClock& o) {
    if (o.c_.size() > c_.size()) c_.resize(o.c_.size(), 0);
    for (std::size_t i = 0; i < o.c_.size(); ++i) c_[i] = std::max(c_[i], o.c_[i]);
  }
  // Does epoch e happen-before (or equal) this clock?
  bool covers(const Epoch& e) const noexcept { return e.clock <= get(e.thread); }
  Epoch epoch(std::uint32_t t) const noexcept { return Epoch{t, get(t)}; }
  // Pointwise <=: everything this clock knows, `o` knows.
  bool leq(const VectorClock& o) const noexcept {
    const std::size_t common = std::min(c_.size(), o.c_.size());
    for (std::size_t i = 0; i < common; ++i) {
      if (c_[i] > o.c_[i]) return false;
    }
    for (std::size_t i = common; i < c_.size(); ++i) {
      if (c_[i] != 0) return false;
    }
    return true;
  }
  bool empty() const noexcept { return c_.empty(); }

 private:
  std::vector<std::uint32_t> c_;
};

}  // namespace lockgraph::analysis
