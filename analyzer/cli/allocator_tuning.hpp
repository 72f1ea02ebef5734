// tune_allocator() — runs the CLI with glibc's allocator set for what the analyzer does: tables
// that grow to tens or hundreds of megabytes, vectors that double, maps that rehash.
//
// With glibc's defaults every fresh 4 KiB page costs a page fault, large blocks are mmap()ed and
// unmapped again at each growth, and freed memory is trimmed back to the kernel only to be
// faulted in again. On the project's VM a page fault costs 5-10 us: the 10^6-event benchmark
// took 14,300 of them and 0.34-0.42 s; with transparent huge pages for the heap
// (glibc.malloc.hugetlb=1, which madvise()s the heap: one fault per 2 MiB) and no mmap/trim
// thresholds in the way, 7,300 and 0.25-0.31 s (docs/performance.md); with one arena for every
// thread (the huge pages are the main arena's only), 1,700. Those settings exist only
// as GLIBC_TUNABLES, read when the process starts, so the CLI starts itself again once with them.
//
// Contract: call first thing in main(). If the user set GLIBC_TUNABLES, or
// LOCKGRAPH_DEFAULT_MALLOC=1, or the command reads no trace (config, generate, --help,
// --version), nothing changes. Otherwise the process execs its own binary with the same
// arguments and the tunables; the new process removes them from its environment again at once,
// so programs it starts (`lockgraph run`'s program, llvm-symbolizer) get the user's environment
// unchanged. If the exec fails the CLI simply goes on with the defaults.
// Cost: one more process start for the commands that read traces (on the project's VM 7 ms:
// `lockgraph --version` takes 10 ms without the restart, 17 ms with it).
#pragma once

namespace lockgraph::cli {

void tune_allocator(char** argv);

}  // namespace lockgraph::cli
