// lockgraph: drop-in traced replacements for the std synchronization types, plus event,
// thread_pool, shared<T> and annotations. Including this header brings them all; each type also
// has its own header. Link with lockgraph::tracer. The trace goes to $LOCKGRAPH_TRACE_DIR
// (default ./lockgraph-trace), one file per process; `lockgraph analyze DIR` reports on it.
#pragma once

#include "lockgraph/annotations.hpp"
#include "lockgraph/condition_variable.hpp"
#include "lockgraph/event.hpp"
#include "lockgraph/mutex.hpp"
#include "lockgraph/process_shared.hpp"
#include "lockgraph/semaphore.hpp"
#include "lockgraph/shared.hpp"
#include "lockgraph/shared_mutex.hpp"
#include "lockgraph/thread.hpp"
#include "lockgraph/thread_pool.hpp"
#include "lockgraph/watchdog.hpp"
