// The call site to record for an interposed call: the return address, or — when that lies in
// code the user did not write (std::thread's constructor in libstdc++ calls pthread_create, and
// at -O0 std::mutex::lock is a real function in the program) — the first frame of the stack in
// the user's code, so the site is the user's line.
//
// Cost: a per-thread cache lookup for user-code return addresses (the common case at -O2, where
// std::mutex::lock is inline); a stack walk (backtrace(), about a microsecond) otherwise.
#pragma once

namespace lockgraph::preload {

const void* user_caller(const void* pc) noexcept;

}  // namespace lockgraph::preload
