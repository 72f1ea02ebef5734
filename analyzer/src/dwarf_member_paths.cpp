// DwarfMemberPaths: see dwarf_member_paths.hpp.
#include "dwarf_member_paths.hpp"

#include <dwarf.h>
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "elfutils_api.hpp"

namespace lockgraph::analysis {

struct DwarfMemberPaths::Handle {
  int fd = -1;
  Dwarf* dwarf = nullptr;
  ~Handle() {
    if (dwarf != nullptr) elfutils()->dwarf_end(dwarf);
    if (fd >= 0) close(fd);
  }
};

namespace {

// The entry `die`'s DW_AT_type refers to (through a declaration it completes); false if none.
bool type_of(Dwarf_Die* die, Dwarf_Die* type) {
  Dwarf_Attribute attr;
  return elfutils()->dwarf_attr_integrate(die, DW_AT_type, &attr) != nullptr && elfutils()->dwarf_formref_die(&attr, type) != nullptr;
}

// Follows typedefs and qualifiers to the type they name.
bool strip(Dwarf_Die* type) {
  for (int hops = 0; hops < 32; ++hops) {
    switch (elfutils()->dwarf_tag(type)) {
      case DW_TAG_typedef:
      case DW_TAG_const_type:
      case DW_TAG_volatile_type:
      case DW_TAG_restrict_type:
      case DW_TAG_atomic_type: {
        Dwarf_Die next;
        if (!type_of(type, &next)) return false;
        *type = next;
        break;
      }
      default:
        return true;
    }
  }
  return false;
}

bool declared_in_system_header(Dwarf_Die* type) {
  const char* file = elfutils()->dwarf_decl_file(type);
  return file != nullptr && std::string_view(file).rfind("/usr/", 0) == 0;
}

std::uint64_t size_of(Dwarf_Die* type) {
  Dwarf_Word size = 0;
  return elfutils()->dwarf_aggregate_size(type, &size) == 0 ? size : 0;
}

// The element counts of an array type's dimensions, outermost first (0: unknown).
std::vector<std::uint64_t> dimensions(Dwarf_Die* array) {
  std::vector<std::uint64_t> dims;
  Dwarf_Die child;
  if (elfutils()->dwarf_child(array, &child) != 0) return dims;
  do {
    if (elfutils()->dwarf_tag(&child) != DW_TAG_subrange_type) continue;
    Dwarf_Attribute attr;
    Dwarf_Word value = 0;
    if (elfutils()->dwarf_attr(&child, DW_AT_count, &attr) != nullptr && elfutils()->dwarf_formudata(&attr, &value) == 0) {
      dims.push_back(value);
    } else if (elfutils()->dwarf_attr(&child, DW_AT_upper_bound, &attr) != nullptr && elfutils()->dwarf_formudata(&attr, &value) == 0) {
      dims.push_back(value + 1);
    } else {
      dims.push_back(0);
    }
  } while (elfutils()->dwarf_siblingof(&child, &child) == 0);
  return dims;
}

// The member (or base class) of a struct, class or union that holds `offset`: its offset in the
// aggregate and type. False when no member does.
bool member_at(Dwarf_Die* aggregate, std::uint64_t offset, Dwarf_Die* member, std::uint64_t* at, Dwarf_Die* type) {
  Dwarf_Die child;
  if (elfutils()->dwarf_child(aggregate, &child) != 0) return false;
  do {
    const int tag = elfutils()->dwarf_tag(&child);
    if (tag != DW_TAG_member && tag != DW_TAG_inheritance) continue;
    if (elfutils()->dwarf_hasattr(&child, DW_AT_external) || elfutils()->dwarf_hasattr(&child, DW_AT_declaration)) continue;  // static member
    Dwarf_Attribute attr;
    Dwarf_Word location = 0;  // union members have none: they start at 0
    if (elfutils()->dwarf_attr(&child, DW_AT_data_member_location, &attr) != nullptr && elfutils()->dwarf_formudata(&attr, &location) != 0) continue;
    Dwarf_Die t;
    if (!type_of(&child, &t)) continue;
    Dwarf_Die stripped = t;
    if (!strip(&stripped)) continue;
    const std::uint64_t size = size_of(&stripped);
    if (offset >= location && offset < location + (size ? size : 1)) {
      *member = child;
      *at = location;
      *type = stripped;
      return true;
    }
  } while (elfutils()->dwarf_siblingof(&child, &child) == 0);
  return false;
}

}  // namespace

DwarfMemberPaths::DwarfMemberPaths(std::string module) : module_(std::move(module)) {}
DwarfMemberPaths::~DwarfMemberPaths() = default;

void DwarfMemberPaths::index() {
  indexed_ = true;
  handle_ = std::make_unique<Handle>();
  if (elfutils() == nullptr) return;  // no member paths, as without debug info
  handle_->fd = open(module_.c_str(), O_RDONLY | O_CLOEXEC);
  if (handle_->fd < 0) return;
  handle_->dwarf = elfutils()->dwarf_begin(handle_->fd, DWARF_C_READ);
  if (handle_->dwarf == nullptr) return;  // no debug info
  // Variables at a compile unit's top level or inside namespaces (C++ puts a namespace's
  // definitions at the top level, completing a declaration in the namespace, or in it).
  std::vector<Dwarf_Die> pending;
  Dwarf_Off offset = 0, next = 0;
  std::size_t header_size = 0;
  while (elfutils()->dwarf_nextcu(handle_->dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die cu;
    if (elfutils()->dwarf_offdie(handle_->dwarf, offset + header_size, &cu) != nullptr) pending.push_back(cu);
    offset = next;
    while (!pending.empty()) {
      Dwarf_Die scope = pending.back();
      pending.pop_back();
      Dwarf_Die child;
      if (elfutils()->dwarf_child(&scope, &child) != 0) continue;
      do {
        const int tag = elfutils()->dwarf_tag(&child);
        if (tag == DW_TAG_namespace) {
          pending.push_back(child);
          continue;
        }
        if (tag != DW_TAG_variable) continue;
        Dwarf_Attribute attr;
        Dwarf_Op* expr = nullptr;
        std::size_t length = 0;
        if (elfutils()->dwarf_attr(&child, DW_AT_location, &attr) == nullptr || elfutils()->dwarf_getlocation(&attr, &expr, &length) != 0 ||
            length != 1) {
          continue;
        }
        Dwarf_Addr address = expr[0].number;
        if (expr[0].atom == DW_OP_addrx || expr[0].atom == DW_OP_GNU_addr_index) {  // DWARF 5 (clang's default)
          Dwarf_Attribute indexed;
          if (elfutils()->dwarf_getlocation_attr(&attr, &expr[0], &indexed) != 0 || elfutils()->dwarf_formaddr(&indexed, &address) != 0) continue;
        } else if (expr[0].atom != DW_OP_addr) {
          continue;
        }
        Dwarf_Die type;
        if (type_of(&child, &type)) type_of_variable_.emplace(address, elfutils()->dwarf_dieoffset(&type));
      } while (elfutils()->dwarf_siblingof(&child, &child) == 0);
    }
  }
}

std::string DwarfMemberPaths::path(std::uint64_t variable_start, std::uint64_t offset) {
  if (!indexed_) index();
  auto found = type_of_variable_.find(variable_start);
  if (found == type_of_variable_.end()) return "";
  Dwarf_Die type;
  if (elfutils()->dwarf_offdie(handle_->dwarf, found->second, &type) == nullptr) return "";
  std::string out;
  for (int depth = 0; depth < 32; ++depth) {
    if (!strip(&type)) break;
    const int tag = elfutils()->dwarf_tag(&type);
    if (tag == DW_TAG_array_type) {
      Dwarf_Die element;
      if (!type_of(&type, &element) || !strip(&element)) break;
      const std::uint64_t element_size = size_of(&element);
      const std::vector<std::uint64_t> dims = dimensions(&type);
      if (element_size == 0 || dims.empty()) break;
      // Row-major: the stride of dimension i is the element size times the later dimensions.
      std::vector<std::uint64_t> strides(dims.size(), element_size);
      for (std::size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * (dims[i] ? dims[i] : 1);
      for (std::size_t i = 0; i < dims.size(); ++i) {
        const std::uint64_t index = offset / strides[i];
        if (dims[i] != 0 && index >= dims[i]) return out;
        out += "[" + std::to_string(index) + "]";
        offset %= strides[i];
      }
      type = element;
      continue;
    }
    if (tag != DW_TAG_structure_type && tag != DW_TAG_class_type && tag != DW_TAG_union_type) break;
    if (declared_in_system_header(&type)) break;
    Dwarf_Die member, member_type;
    std::uint64_t at = 0;
    if (!member_at(&type, offset, &member, &at, &member_type)) break;
    const char* name = elfutils()->dwarf_tag(&member) == DW_TAG_member ? elfutils()->dwarf_diename(&member) : nullptr;
    if (name != nullptr) out += std::string(".") + name;
    offset -= at;
    type = member_type;
  }
  return out;
}

}  // namespace lockgraph::analysis
