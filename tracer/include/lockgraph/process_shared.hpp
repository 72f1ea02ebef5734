// Process-shared synchronization for programs that fork(): a mutex, semaphore or event placed in
// anonymous shared memory before fork() works across the parent and its children, and its
// operations are recorded with one id and one sequence across all their trace files.
//
//   auto* stalls = lockgraph::make_process_shared<lockgraph::counting_semaphore<3>>(
//       lockgraph::process_shared, 3, "stalls");
//   if (fork() == 0) { stalls->acquire(); ...; stalls->release(); _exit(0); }
//   ...
//   lockgraph::destroy_process_shared(stalls);   // in the creator, after the children are done
//
// Contract: create before fork(), destroy once, in the creating process. Object ids carry
// format::kProcessSharedObject, so the analyzer treats every process's operations on them as one
// object (happens-before across processes).
// Cost: one mmap per object; the operations cost what the thread-only ones do.
#pragma once

#include <sys/mman.h>

#include <new>
#include <utility>

namespace lockgraph {

struct process_shared_t {
  explicit process_shared_t() = default;
};
inline constexpr process_shared_t process_shared{};

template <class T, class... Args>
T* make_process_shared(Args&&... args) {
  void* mem = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  return new (mem) T(std::forward<Args>(args)...);
}

template <class T>
void destroy_process_shared(T* object) {
  object->~T();
  munmap(static_cast<void*>(object), sizeof(T));
}

}  // namespace lockgraph
