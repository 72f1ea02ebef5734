// Internal: sequence numbers for hand-offs whose state lives outside lockgraph (the instrumented
// program's atomics, its heap blocks). Addresses hash to one of 65,536 slots, each an object of
// its own in the trace (`base | slot`) with its own sequence. A release takes the slot's next
// number *before* the real operation; an acquisition reads the current one *after* it and asks
// the replay for everything up to it (seq = observed + 1), so whatever release it observed is
// replayed first (docs/trace-format.md, "Order without a global clock").
// Cost: one atomic increment per release, one load per acquisition, on the slot's cache line.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace lockgraph::rt {

class SequenceSlots {
 public:
  struct Ticket {
    std::uint64_t object;
    std::uint64_t seq;
  };

  explicit constexpr SequenceSlots(std::uint64_t object_base) noexcept : base_(object_base) {}

  Ticket release(std::uintptr_t address) noexcept {
    std::size_t s = slot_of(address);
    return Ticket{base_ | s, seq_[s].fetch_add(1, std::memory_order_acq_rel) + 1};
  }

  Ticket observe(std::uintptr_t address) noexcept {
    std::size_t s = slot_of(address);
    return Ticket{base_ | s, seq_[s].load(std::memory_order_acquire) + 1};
  }

 private:
  static constexpr std::size_t kSlots = 65536;
  static std::size_t slot_of(std::uintptr_t a) noexcept {
    return std::size_t((a >> 3) * 0x9E3779B97F4A7C15ull >> 48);
  }

  std::uint64_t base_;
  std::atomic<std::uint64_t> seq_[kSlots] = {};
};

}  // namespace lockgraph::rt
