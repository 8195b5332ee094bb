#include "benchmarks/cuda_bench.h"

#include <cstdio>
#include <string>

#include "common/cuda/device_buffer.h"
#include "common/cuda/device_info.h"

namespace benchmarks::cuda {

using common::cuda::CheckCuda;

double TimeOnStream(benchmark::State& state, cudaStream_t stream,
                    const std::function<void()>& enqueue, const std::function<void()>& reset) {
  cudaEvent_t start, stop;
  CheckCuda(cudaEventCreate(&start), "cudaEventCreate");
  CheckCuda(cudaEventCreate(&stop), "cudaEventCreate");
  if (reset) reset();
  enqueue();  // warm-up: first launches load modules
  CheckCuda(cudaStreamSynchronize(stream), "warm-up");
  double total = 0;
  int64_t count = 0;
  for (auto _ : state) {
    if (reset) reset();
    CheckCuda(cudaEventRecord(start, stream), "cudaEventRecord");
    enqueue();
    CheckCuda(cudaEventRecord(stop, stream), "cudaEventRecord");
    CheckCuda(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    CheckCuda(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    state.SetIterationTime(ms * 1e-3);
    total += ms * 1e-3;
    ++count;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return count ? total / count : 0;
}

Stream::Stream() {
  CheckCuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
}

Stream::~Stream() { cudaStreamDestroy(stream_); }

Graph::Graph(cudaStream_t stream, const std::function<void()>& enqueue) {
  CheckCuda(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "begin capture");
  enqueue();
  CheckCuda(cudaStreamEndCapture(stream, &graph_), "end capture");
  CheckCuda(cudaGraphInstantiate(&exec_, graph_, 0), "cudaGraphInstantiate");
}

Graph::~Graph() {
  cudaGraphExecDestroy(exec_);
  cudaGraphDestroy(graph_);
}

void Graph::Launch(cudaStream_t stream) const {
  CheckCuda(cudaGraphLaunch(exec_, stream), "cudaGraphLaunch");
}

void ReportRates(benchmark::State& state, double seconds, double flops, double bytes) {
  if (seconds <= 0) return;
  static const common::cuda::DevicePeaks peaks = common::cuda::Peaks(0);
  if (flops > 0) {
    const double gflops = flops / seconds * 1e-9;
    state.counters["GFLOP/s"] = gflops;
    if (peaks.fp32_gflops > 0) state.counters["pct_fp32_peak"] = 100 * gflops / peaks.fp32_gflops;
  }
  if (bytes > 0) {
    const double gbytes = bytes / seconds * 1e-9;
    state.counters["GB/s"] = gbytes;
    if (peaks.dram_gbytes_per_s > 0) {
      state.counters["pct_dram_peak"] = 100 * gbytes / peaks.dram_gbytes_per_s;
    }
  }
}

int RunCudaBenchmarks(int argc, char** argv) {
  if (common::cuda::DeviceCount() == 0) {
    std::fprintf(stderr, "%s: no CUDA device visible (driver or GPU missing); nothing to run\n",
                 argv[0]);
    return 1;
  }
  const common::cuda::DevicePeaks peaks = common::cuda::Peaks(0);
  benchmark::AddCustomContext("gpu", common::cuda::DeviceDescription(0));
  benchmark::AddCustomContext("gpu_fp32_peak_gflops", std::to_string(peaks.fp32_gflops));
  benchmark::AddCustomContext("gpu_dram_peak_gbytes_per_s",
                              std::to_string(peaks.dram_gbytes_per_s));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace benchmarks::cuda
