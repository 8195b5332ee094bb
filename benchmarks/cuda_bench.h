// Shared pieces of the CUDA benchmarks (no LibTorch): CUDA-event timing of work enqueued on a
// stream, CUDA-graph capture, achieved rates next to the device's peaks, and a main() that states
// the GPU in the benchmark context and fails with one line when there is none.
#ifndef BENCHMARKS_CUDA_BENCH_H_
#define BENCHMARKS_CUDA_BENCH_H_

#include <cuda_runtime_api.h>

#include <functional>

#include "benchmark/benchmark.h"

namespace benchmarks::cuda {

// Runs the benchmark loop: per iteration `reset` (untimed, may be empty), then `enqueue` between
// two CUDA events on `stream`; the event time is the iteration's manual time (register with
// ->UseManualTime()). Returns the mean seconds per iteration.
double TimeOnStream(benchmark::State& state, cudaStream_t stream,
                    const std::function<void()>& enqueue, const std::function<void()>& reset = {});

// A non-blocking stream of its own (stream capture needs one that is not the legacy default).
class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

// What `enqueue` puts on `stream`, captured once into a CUDA graph and replayed by Launch.
class Graph {
 public:
  Graph(cudaStream_t stream, const std::function<void()>& enqueue);
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  void Launch(cudaStream_t stream) const;

 private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

// Counters: GFLOP/s and GB/s achieved at `seconds` per iteration, and their share of the
// device's fp32 peak and DRAM bandwidth ("pct_fp32_peak", "pct_dram_peak"). Zero flops or bytes
// leave that pair out.
void ReportRates(benchmark::State& state, double seconds, double flops, double bytes);

// main(): one line and exit code 1 without a visible GPU; otherwise runs the benchmarks with the
// device, its peaks and the driver in the context.
int RunCudaBenchmarks(int argc, char** argv);

}  // namespace benchmarks::cuda

#endif  // BENCHMARKS_CUDA_BENCH_H_
