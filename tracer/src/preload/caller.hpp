// The call site to record for an interposed call: the return address, or — when that lies in a
// system library (std::thread's constructor in libstdc++ calls pthread_create, and so do
// condition_variable::wait and thread::join) — the first frame of the stack outside system
// libraries, so the site is the user's line and not libstdc++'s.
//
// Cost: a per-thread cache lookup for user-code return addresses (the common case: std::mutex is
// inline); a stack walk (backtrace(), about a microsecond) for calls coming from system libraries.
#pragma once

namespace lockgraph::preload {

const void* user_caller(const void* pc) noexcept;

}  // namespace lockgraph::preload
