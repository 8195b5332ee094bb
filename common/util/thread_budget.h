// Adaptive intra-op threads: the default --threads=0 uses every core while the machine is idle and
// fewer while other processes keep cores busy. OpenMP threads wait for each other at every
// parallel region; with another busy process per core the straggler is descheduled for whole time
// slices, and one implicit_dl epoch took 30x longer on 2 threads than on 1 (measured: see
// benchmarks/RESULTS.md, "threads under load").
//
// A sampler thread reads /proc/stat and /proc/self/stat twice a second and sets the budget to the
// cores not used by other processes (at least 1); the thread that runs the model applies it at
// step boundaries (ProgressLine::Update calls ApplyThreadBudget), since the OpenMP thread count is
// a per-thread setting.
//
// Example:
//   StartAdaptiveThreads(/*max_threads=*/4);
//   for (...) { Step(); ApplyThreadBudget(); }
#ifndef COMMON_UTIL_THREAD_BUDGET_H_
#define COMMON_UTIL_THREAD_BUDGET_H_

namespace common::util {

// Threads for `max_threads` wanted on `cores` cores when other processes keep `others_busy`
// cores busy: the idle cores, rounded, clamped to [1, max_threads].
int ThreadsFor(double others_busy, int cores, int max_threads);

// Starts the sampler (once per process) and sets the initial budget from the runnable tasks in
// /proc/loadavg.
void StartAdaptiveThreads(int max_threads);

// On the thread that runs the model: at::set_num_threads(budget) when the budget changed since
// the last call. An atomic load when nothing changed; a no-op unless StartAdaptiveThreads ran.
void ApplyThreadBudget();

// The current budget (0 when not adaptive).
int ThreadBudget();

}  // namespace common::util

#endif  // COMMON_UTIL_THREAD_BUDGET_H_
