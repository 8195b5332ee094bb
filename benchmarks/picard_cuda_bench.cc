// Picard forward and adjoint solves on the GPU (implicit_dl/cuda/picard.h) at the paper's sizes
// (n = 100, 300, batch 100) and larger ones. Timed with CUDA events per solve; counters: maps
// per solve, microseconds per map, GFLOP/s (2 n^2 m per map) against the fp32 peak.
//   bazel run -c opt --config=cuda //benchmarks:picard_cuda_bench
// Same problems in eager PyTorch: benchmarks/peers/cuda_reference.py.
#include <cmath>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/cuda_bench.h"
#include "benchmarks/cuda_problems.h"
#include "common/cuda/device_buffer.h"
#include "implicit_dl/cuda/picard.h"

namespace benchmarks::cuda {
namespace {

using common::cuda::CheckCuda;
using common::cuda::DeviceBuffer;
using implicit_dl::cuda::PicardProblem;
using implicit_dl::cuda::PicardStats;
using implicit_dl::cuda::PicardWorkspace;
using implicit_dl::cuda::Precision;

constexpr int kMitr = 300;
constexpr float kTol = 3e-6f;

struct Setup {
  int n, m;
  DeviceBuffer<float> a, z, x;
  PicardWorkspace ws;
  Setup(int n_, int m_)
      : n(n_), m(m_), a(PicardA(n_)), z(HashMatrix(n_, m_, 2.0, 7919)), x(size_t(n_) * m_) {
    CheckCuda(implicit_dl::cuda::PicardWorkspaceCreate(n, m, kMitr, true, &ws), "workspace");
  }
  ~Setup() { implicit_dl::cuda::PicardWorkspaceDestroy(&ws); }
  void ZeroX() { CheckCuda(cudaMemsetAsync(x.get(), 0, sizeof(float) * n * m, nullptr), "memset"); }
};

void Report(benchmark::State& state, const Setup& s, double seconds) {
  PicardStats stats;
  CheckCuda(implicit_dl::cuda::PicardReadStats(s.ws, &stats, nullptr), "stats");
  if (!stats.converged) state.SkipWithError("did not converge");
  const double flops = 2.0 * s.n * s.n * s.m * stats.iterations;
  state.counters["maps"] = stats.iterations;
  state.counters["us_per_map"] = seconds * 1e6 / stats.iterations;
  ReportRates(state, seconds, flops, 0);
}

void BM_PicardForward(benchmark::State& state) {
  Setup s(state.range(0), state.range(1));
  PicardProblem p{s.n, s.m, kMitr, kTol};
  p.precision = state.range(2) ? Precision::kBf16A : Precision::kFp32;
  std::vector<float> fp32;
  if (state.range(2)) {  // the fp32 solution, to report the bf16 error
    PicardProblem f = p;
    f.precision = Precision::kFp32;
    s.ZeroX();
    CheckCuda(implicit_dl::cuda::PicardForward(s.a.get(), s.z.get(), s.x.get(), f, s.ws, nullptr),
              "solve");
    fp32 = s.x.Download();
  }
  const double seconds = TimeOnStream(
      state, nullptr,
      [&] {
        CheckCuda(
            implicit_dl::cuda::PicardForward(s.a.get(), s.z.get(), s.x.get(), p, s.ws, nullptr),
            "solve");
      },
      [&] { s.ZeroX(); });
  Report(state, s, seconds);
  if (!fp32.empty()) {
    const std::vector<float> x = s.x.Download();
    double err = 0;
    for (size_t i = 0; i < x.size(); ++i) err = std::fmax(err, std::fabs(x[i] - fp32[i]));
    state.counters["max_abs_err_vs_fp32"] = err;
  }
}

void BM_PicardAdjoint(benchmark::State& state) {
  Setup s(state.range(0), state.range(1));
  // D: a ReLU mask with about half the entries on; G: hashed.
  std::vector<float> d = HashMatrix(s.n, s.m, 1.0, 104729);
  for (float& v : d) v = v > 0 ? 1.0f : 0.0f;
  DeviceBuffer<float> dd(d), g(HashMatrix(s.n, s.m, 2.0, 15485863));
  const PicardProblem p{s.n, s.m, kMitr, kTol};
  const double seconds = TimeOnStream(state, nullptr, [&] {
    CheckCuda(
        implicit_dl::cuda::PicardAdjoint(s.a.get(), dd.get(), g.get(), s.x.get(), p, s.ws, nullptr),
        "adjoint");
  });
  Report(state, s, seconds);
}

void Sizes(benchmark::internal::Benchmark* b, bool precision_arg) {
  for (auto [n, m] : {std::pair{100, 100}, {300, 100}, {1024, 1024}, {4096, 1024}, {4096, 4096}}) {
    if (precision_arg) {
      b->Args({n, m, 0})->Args({n, m, 1});
    } else {
      b->Args({n, m});
    }
  }
  b->ArgNames(precision_arg ? std::vector<std::string>{"n", "m", "bf16"}
                            : std::vector<std::string>{"n", "m"});
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_PicardForward)->Apply([](benchmark::internal::Benchmark* b) { Sizes(b, true); });
BENCHMARK(BM_PicardAdjoint)->Apply([](benchmark::internal::Benchmark* b) { Sizes(b, false); });

}  // namespace
}  // namespace benchmarks::cuda

int main(int argc, char** argv) { return benchmarks::cuda::RunCudaBenchmarks(argc, argv); }
