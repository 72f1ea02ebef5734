// PositionedList<T> — an append-only list whose entries keep their position (an absolute index)
// when entries are dropped from its front, so positions held elsewhere (cursors, references from
// other records) stay valid. Internal to predictive/: syncp's candidate lists and the closure's
// rule lists, both of which let go of what every reader has passed.
// Contract: positions below `base` are gone; reading one is a bug of the caller.
// Cost: dropping moves what is kept (callers drop only when most of the list goes).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lockgraph::analysis::predictive {

template <class T>
struct PositionedList {
  std::vector<T> items;
  std::uint32_t base = 0;  // the position of items[0]: how many were dropped

  std::uint32_t end() const { return base + static_cast<std::uint32_t>(items.size()); }
  const T& operator[](std::uint32_t position) const { return items[position - base]; }
  T& at(std::uint32_t position) { return items[position - base]; }
  // Drops the entries before `position` (none when it is at or below base).
  void drop_before(std::uint32_t position) {
    if (position <= base) return;
    const std::uint32_t n = std::min(position, end()) - base;
    items.erase(items.begin(), items.begin() + n);
    base += n;
  }
};

}  // namespace lockgraph::analysis::predictive
