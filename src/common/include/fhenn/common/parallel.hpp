// Parallel loops over independent work items (a layer's neurons, a batch's bootstraps) on all cores.
#pragma once

#include <cstddef>
#include <functional>

namespace fhenn {

// Threads used by default: FHENN_THREADS if set (>= 1), else the hardware concurrency.
int default_thread_count();

// Calls body(index, worker) for every index in [0, count), spread over `threads` workers
// (worker in [0, threads) identifies the caller's scratch space). Items are claimed dynamically,
// one at a time, so uneven items balance. The first exception thrown by a body is rethrown here
// after all workers stop. threads <= 1 runs inline on the calling thread.
void parallel_for(size_t count, int threads, const std::function<void(size_t index, int worker)>& body);

}  // namespace fhenn
