// ElfDataSymbols: see elf_data_symbols.hpp.
#include "elf_data_symbols.hpp"

#include <cxxabi.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "elfutils_api.hpp"

namespace lockgraph::analysis {
namespace {

std::string demangled(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && d != nullptr ? d : name;
  std::free(d);
  // "(anonymous namespace)::" says nothing a reader needs next to a file and line.
  for (std::size_t at; (at = out.find("(anonymous namespace)::")) != std::string::npos;) out.erase(at, 23);
  return out;
}

// The objects of the section's symbol table; false when it has none.
bool read_objects(Elf* elf, Elf_Scn* scn, const GElf_Shdr& shdr, std::vector<DataSymbol>* out) {
  Elf_Data* data = elfutils()->elf_getdata(scn, nullptr);
  if (data == nullptr || shdr.sh_entsize == 0) return false;
  const std::size_t count = shdr.sh_size / shdr.sh_entsize;
  for (std::size_t i = 0; i < count; ++i) {
    GElf_Sym sym;
    if (elfutils()->gelf_getsym(data, int(i), &sym) == nullptr) continue;
    const int type = GELF_ST_TYPE(sym.st_info);
    if ((type != STT_OBJECT && type != STT_COMMON) || sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
    const char* name = elfutils()->elf_strptr(elf, shdr.sh_link, sym.st_name);
    if (name == nullptr || *name == '\0') continue;
    out->push_back(DataSymbol{demangled(name), sym.st_value, sym.st_size});
  }
  return !out->empty();
}

}  // namespace

ElfDataSymbols::ElfDataSymbols(const std::string& module) {
  if (elfutils() == nullptr || elfutils()->elf_version(EV_CURRENT) == EV_NONE) return;  // names stay addresses
  const int fd = open(module.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (Elf* elf = elfutils()->elf_begin(fd, ELF_C_READ_MMAP, nullptr)) {
    GElf_Ehdr ehdr;
    if (elfutils()->gelf_getehdr(elf, &ehdr) != nullptr) position_dependent_ = ehdr.e_type == ET_EXEC;
    // .symtab has every global and static variable; a stripped module keeps only .dynsym.
    for (Elf64_Word wanted : {SHT_SYMTAB, SHT_DYNSYM}) {
      for (Elf_Scn* scn = nullptr; (scn = elfutils()->elf_nextscn(elf, scn)) != nullptr;) {
        GElf_Shdr shdr;
        if (elfutils()->gelf_getshdr(scn, &shdr) != nullptr && shdr.sh_type == wanted) read_objects(elf, scn, shdr, &symbols_);
      }
      if (!symbols_.empty()) break;
    }
    elfutils()->elf_end(elf);
  }
  close(fd);
  std::sort(symbols_.begin(), symbols_.end(), [](const DataSymbol& a, const DataSymbol& b) {
    return a.start != b.start ? a.start < b.start : a.size > b.size;  // aliases: the sized one first
  });
  symbols_.erase(std::unique(symbols_.begin(), symbols_.end(),
                             [](const DataSymbol& a, const DataSymbol& b) { return a.start == b.start; }),
                 symbols_.end());
}

const DataSymbol* ElfDataSymbols::find(std::uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](std::uint64_t a, const DataSymbol& s) { return a < s.start; });
  if (it == symbols_.begin()) return nullptr;
  --it;
  if (it->size != 0 && address - it->start >= it->size) return nullptr;
  return &*it;
}

}  // namespace lockgraph::analysis
