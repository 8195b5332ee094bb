// Shared main() for the LibTorch benchmarks: sets LibTorch's intra-op threads from
// $BENCH_THREADS (default: all cores) and records threads and the BLAS library in the JSON/console
// context, so that every figure states what it ran on.
#ifndef BENCHMARKS_BENCH_MAIN_H_
#define BENCHMARKS_BENCH_MAIN_H_

namespace benchmarks {

// Call from main(): initialises Google Benchmark, runs the registered benchmarks.
int RunBenchmarks(int argc, char** argv);

}  // namespace benchmarks

#endif  // BENCHMARKS_BENCH_MAIN_H_
