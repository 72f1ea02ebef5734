// Records for lockgraph::shared<T>: its name, and accesses made through operators (pc sites).
#include "lockgraph/shared.hpp"

namespace lockgraph::detail {

void record_var_name(const void* addr, std::size_t size, const char* name, const source_site& where) noexcept {
  rt::ThreadState* t = rt::recording_self();
  if (t == nullptr) return;
  std::uint32_t name_id = name ? rt::intern_string(t, name) : 0;
  std::uint64_t payload[5] = {reinterpret_cast<std::uintptr_t>(addr), 0, 0, size, name_id};
  rt::emit(t, format::make_word0(format::Kind::kVarName, 0, 48, rt::site_id(t, where)), payload, 5);
}

void record_access_pc(const void* addr, std::uint32_t size, bool is_write, const void* pc) noexcept {
  rt::ThreadState* t = rt::recording_self();
  if (t == nullptr) return;
  auto a = reinterpret_cast<std::uint64_t>(addr);
  if (!rt::access_is_new(t, a, is_write)) return;
  rt::emit_access(t, a, size, is_write, rt::pc_site_id(t, pc));
}

}  // namespace lockgraph::detail
