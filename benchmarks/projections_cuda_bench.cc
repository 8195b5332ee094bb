// Constraint projections and spectral norms on the GPU at the layer sizes of the papers:
// implicit_dl's row-wise L1 projection of A (radius 0.95), excess_capacity's (2,1) group-norm
// projection around the initial weights and Lipschitz constants (dense power iteration; exact
// cyclic-conv norm) for the no-stride PreAct-ResNet18's layer shapes. Timed with CUDA events;
// GB/s counts the bytes each computation must at least move, against the DRAM peak.
//   bazel run -c opt --config=cuda //benchmarks:projections_cuda_bench
// Same computations the reference way: benchmarks/peers/cuda_reference.py.
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/cuda_bench.h"
#include "benchmarks/cuda_problems.h"
#include "common/cuda/device_buffer.h"
#include "common/cuda/projections.h"
#include "excess_capacity/cuda/spectral_norm.h"

namespace benchmarks::cuda {
namespace {

using common::cuda::CheckCuda;
using common::cuda::DeviceBuffer;
using common::cuda::GroupLayout;
using excess_capacity::cuda::ConvShape;
using excess_capacity::cuda::SpectralWorkspace;

// Each row of A has L1 norm ~ 0.25 cols * 4 / sqrt(cols) >> 0.95: every row is projected.
void BM_RowsL1Ball(benchmark::State& state) {
  const int rows = state.range(0), cols = state.range(1);
  const DeviceBuffer<float> pristine(HashMatrix(rows, cols, 4.0 / std::sqrt(cols)));
  DeviceBuffer<float> a(size_t(rows) * cols);
  const size_t bytes = sizeof(float) * rows * cols;
  const double seconds = TimeOnStream(
      state, nullptr,
      [&] {
        CheckCuda(common::cuda::ProjectRowsL1Ball(a.get(), rows, cols, 0.95f, nullptr), "l1");
      },
      [&] {
        CheckCuda(cudaMemcpyAsync(a.get(), pristine.get(), bytes, cudaMemcpyDeviceToDevice),
                  "copy");
      });
  ReportRates(state, seconds, 0, 2.0 * bytes);  // read A, write A
}
BENCHMARK(BM_RowsL1Ball)
    ->Args({100, 100})
    ->Args({300, 300})
    ->Args({1024, 1024})
    ->Args({4096, 4096})
    ->ArgNames({"rows", "cols"})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// x = anchor + hashed offsets, projected onto half its distance.
void BM_GroupNormBall(benchmark::State& state) {
  const GroupLayout layout{static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                           static_cast<int>(state.range(2))};
  const long count = layout.Elements();
  const DeviceBuffer<float> anchor(HashMatrix(1, count, 0.1, 3));
  std::vector<float> x0 = HashMatrix(1, count, 0.1, 3);
  const std::vector<float> offset = HashMatrix(1, count, 0.02, 5);
  for (long i = 0; i < count; ++i) x0[i] += offset[i];
  const double radius = 0.5 * common::cuda::GroupNormDistanceHost(x0, anchor.Download(), layout);
  const DeviceBuffer<float> pristine(x0);
  DeviceBuffer<float> x(count);
  float* workspace = nullptr;
  CheckCuda(common::cuda::GroupNormWorkspaceCreate(layout, &workspace), "workspace");
  const size_t bytes = sizeof(float) * count;
  const double seconds = TimeOnStream(
      state, nullptr,
      [&] {
        CheckCuda(common::cuda::ProjectGroupNormBall(x.get(), anchor.get(), layout, radius,
                                                     workspace, nullptr),
                  "group");
      },
      [&] {
        CheckCuda(cudaMemcpyAsync(x.get(), pristine.get(), bytes, cudaMemcpyDeviceToDevice),
                  "copy");
      });
  cudaFree(workspace);
  ReportRates(state, seconds, 0, 3.0 * bytes);  // read x and anchor, write x
}
// {cout, cin, k * k}: the stem, the 3x3 convs of the four stages, the 2x2 and 1x1 rewrites.
BENCHMARK(BM_GroupNormBall)
    ->Args({64, 3, 49})
    ->Args({64, 64, 9})
    ->Args({128, 128, 9})
    ->Args({256, 256, 4})
    ->Args({512, 512, 1})
    ->Args({512, 512, 9})
    ->ArgNames({"cout", "cin", "kk"})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// 20 power-iteration rounds on an n x n matrix, the whole sequence replayed as a CUDA graph.
void BM_MatrixSpectralNorm(benchmark::State& state) {
  const int n = state.range(0), iters = 20;
  const DeviceBuffer<float> w(HashMatrix(n, n, 1.0));
  DeviceBuffer<float> v(HashMatrix(1, n, 1.0, 11));
  SpectralWorkspace ws;
  CheckCuda(excess_capacity::cuda::SpectralWorkspaceCreate(n, n, {1, 1, 1, 1, 1}, &ws), "ws");
  const Stream stream;
  const Graph graph(stream.get(), [&] {
    CheckCuda(
        excess_capacity::cuda::MatrixSpectralNorm(w.get(), n, n, iters, v.get(), ws, stream.get()),
        "power iteration");
  });
  const double seconds = TimeOnStream(state, stream.get(), [&] { graph.Launch(stream.get()); });
  excess_capacity::cuda::SpectralWorkspaceDestroy(&ws);
  ReportRates(state, seconds, 4.0 * n * n * iters, 2.0 * sizeof(float) * n * n * iters);
}
BENCHMARK(BM_MatrixSpectralNorm)
    ->Arg(300)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(4096)
    ->ArgName("n")
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// Exact cyclic-conv norm: DFT of the kernel + 50 per-frequency power rounds, as a CUDA graph.
void BM_CyclicConvSpectralNorm(benchmark::State& state) {
  const ConvShape s{static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
                    static_cast<int>(state.range(2)), static_cast<int>(state.range(3)),
                    static_cast<int>(state.range(3))};
  const int iters = 50;
  const DeviceBuffer<float> w(HashMatrix(s.cout * s.cin, s.k * s.k, 0.1));
  SpectralWorkspace ws;
  CheckCuda(excess_capacity::cuda::SpectralWorkspaceCreate(1, 1, s, &ws), "ws");
  const Stream stream;
  const Graph graph(stream.get(), [&] {
    CheckCuda(excess_capacity::cuda::CyclicConvSpectralNorm(w.get(), s, iters, ws, stream.get()),
              "cyclic norm");
  });
  const double seconds = TimeOnStream(state, stream.get(), [&] { graph.Launch(stream.get()); });
  excess_capacity::cuda::SpectralWorkspaceDestroy(&ws);
  const double spectrum_bytes = 8.0 * s.Frequencies() * s.cout * s.cin;
  ReportRates(state, seconds, 0, 2.0 * spectrum_bytes * iters);  // M and M^H read every round
}
// {cout, cin, k, side}: the no-stride PreAct-ResNet18's layer shapes (32 -> 8 after the stem's
// two pools, then 4, 2, 1 with the kernel rewritten to the grid).
BENCHMARK(BM_CyclicConvSpectralNorm)
    ->Args({64, 3, 7, 32})
    ->Args({64, 64, 3, 8})
    ->Args({128, 128, 3, 4})
    ->Args({256, 256, 2, 2})
    ->Args({512, 512, 1, 1})
    ->ArgNames({"cout", "cin", "k", "side"})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace benchmarks::cuda

int main(int argc, char** argv) { return benchmarks::cuda::RunCudaBenchmarks(argc, argv); }
