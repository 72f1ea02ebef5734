// Internal: FNV-1a (Fowler, Noll, Vo), the analyzer's one non-cryptographic hash — finding
// fingerprints, run ids of saved graphs, interned held-lock sets. Stable across builds and
// machines: fingerprints and run ids are stored in baselines and saved graphs.
// Cost: one xor and one multiply per byte (per value for word()).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace lockgraph::analysis {

class Fnv1a {
 public:
  void byte(unsigned char c) noexcept { h_ = (h_ ^ c) * kPrime; }
  void bytes(std::string_view s) noexcept {
    for (unsigned char c : s) byte(c);
  }
  // A whole value in one step (not byte by byte): for in-memory keys only.
  void word(std::uint64_t w) noexcept { h_ = (h_ ^ w) * kPrime; }
  std::uint64_t value() const noexcept { return h_; }
  std::string hex() const {
    char b[20];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h_));
    return b;
  }

 private:
  static constexpr std::uint64_t kPrime = 1099511628211ull;
  std::uint64_t h_ = 1469598103934665603ull;
};

}  // namespace lockgraph::analysis
