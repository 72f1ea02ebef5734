// Internal: FlatMap — an open-addressing hash map (linear probing, power-of-two capacity) for the
// analyzer's per-address shadow state, where std::unordered_map's node per entry and pointer
// chase per lookup dominated the profile.
//
// Contract: find_or_insert() returns a reference valid until the next insertion; there is no
// erase. Keys are compared with ==; `Hash` must spread the low bits.
// Cost: one probe sequence per lookup in a contiguous array; grows at 50% load.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace lockgraph::analysis {

template <class Key, class Value, class Hash>
class FlatMap {
 public:
  // Returns the value for key, default-constructing it if absent; *inserted says which.
  Value& find_or_insert(const Key& key, bool* inserted = nullptr) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = Hash{}(key) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used) {
        s.used = true;
        s.key = key;
        ++size_;
        if (inserted) *inserted = true;
        return s.value;
      }
      if (s.key == key) {
        if (inserted) *inserted = false;
        return s.value;
      }
    }
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    Key key{};
    Value value{};
    bool used = false;
  };

  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.empty() ? 1024 : old.size() * 2);
    size_ = 0;
    for (Slot& s : old) {
      if (s.used) find_or_insert(s.key) = std::move(s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace lockgraph::analysis
