// The live deadlock watchdog's public constants.
//
// The watchdog runs inside every traced program with more than one thread. It is configured by
// environment variables (documented in docs/user-guide.md):
//   LOCKGRAPH_WATCHDOG=0        disable it
//   LOCKGRAPH_WATCHDOG_MS=100   sampling interval
//   LOCKGRAPH_DEADLOCK_MS=500   how long a wait-for cycle must persist before it is reported
//   LOCKGRAPH_STALL_MS=3000     how long every thread must be blocked before a stall is reported
//   LOCKGRAPH_ON_DEADLOCK=exit  exit (default, code kDeadlockExitCode) | abort | report (keep running)
// Cost: one sleeping thread; a scan takes the thread-registry lock for a few microseconds.
#pragma once

namespace lockgraph {

inline constexpr int kDeadlockExitCode = 86;  // exit status of a program the watchdog ended
inline constexpr unsigned char kDeadlockCycle = 1;  // kDeadlock record flags: a wait-for cycle
inline constexpr unsigned char kDeadlockStall = 2;  // every live thread blocked, no cycle
inline constexpr unsigned char kDeadlockOrphan = 3; // a thread waits for a lock whose owner has exited

}  // namespace lockgraph
