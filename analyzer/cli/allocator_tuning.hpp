// tune_allocator() — sets glibc's allocator, in this process, for what the analyzer does: tables
// that grow to tens or hundreds of megabytes, vectors that double, maps that rehash.
//
// With glibc's defaults every fresh 4 KiB page costs a page fault, large blocks are mmap()ed and
// unmapped again at each growth, and freed memory is trimmed back to the kernel only to be
// faulted in again. On the project's VM a page fault costs 5-20 us: the 10^6-event benchmark
// took 14,300 of them and 0.34-0.42 s with the defaults (docs/performance.md). So, for the
// commands that read traces:
//   - one arena for every thread (a second thread's blocks would come from an arena of its own,
//     in 4 KiB pages, outside the huge-page heap below);
//   - the heap grows once by 1 GiB of address space (a quarter of a `ulimit -v` or `-d` when
//     that is less; not at all below 64 MiB) — nothing is touched or committed by that:
//     pages are faulted in as they are used — and that range is madvise(MADV_HUGEPAGE)d, so the
//     kernel backs it with 2 MiB pages where transparent huge pages are enabled ("always" or
//     "madvise"): one fault per 2 MiB. Blocks of any size that fit come from it, large ones too;
//   - nothing is trimmed back below 2 GiB of free heap, and blocks that do not fit any more are
//     mmap()ed only from 32 MiB up.
// Earlier versions did the same with GLIBC_TUNABLES, which glibc reads only at start, by
// starting the CLI a second time (~4 ms per command on the project's VM); mallopt() and one
// madvise() do it in place. A heap that outgrows the first 1 GiB grows in 4 KiB pages again.
//
// Contract: call first thing in main(), before any thread starts. If the user set GLIBC_TUNABLES,
// or LOCKGRAPH_DEFAULT_MALLOC=1, or the command reads no trace (config, generate, --help,
// --version), nothing changes. Programs the CLI starts (`lockgraph run`'s program,
// llvm-symbolizer) are unaffected: the settings are this process's, not its environment's.
// Where the heap cannot grow (a strict overcommit limit, an allocator replaced by a sanitizer or
// valgrind) the huge pages are simply not requested.
// Cost: a few system calls, once; 1 GiB more virtual size (VSZ), no more resident memory.
#pragma once

namespace lockgraph::cli {

void tune_allocator(char** argv);

}  // namespace lockgraph::cli
