// CPU timings of the exact projections in common/linalg at the papers' sizes:
// - row-wise L1-ball projection of implicit_dl's A (n x n, radius 0.95; n = 100, 300 in the
//   paper, larger n for scaling), from a matrix whose rows all lie outside the ball;
// - (2,1) group-norm-ball projection around the initial weights for excess_capacity's layers
//   (PreAct-ResNet18 conv kernels and the linear classifier), radius half the current distance.
// Each benchmark checks the result once (constraint met within 1e-4) so a fast wrong kernel
// fails. Not compared here: the GPU versions (issue 8) and the reference's bisection search.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "benchmarks/bench_main.h"
#include "common/linalg/projections.h"

namespace {

using common::linalg::GroupNormDistance;
using common::linalg::ProjectOntoGroupNormBall;
using common::linalg::ProjectRowsOntoL1Ball;

void BM_L1BallRows(benchmark::State& state) {
  const int64_t n = state.range(0);
  torch::manual_seed(0);
  const torch::Tensor a = torch::randn({n, n}) * (2.0 / n);  // row L1 norms ~ 1.6 > 0.95
  for (auto _ : state) benchmark::DoNotOptimize(ProjectRowsOntoL1Ball(a, 0.95));
  const double worst = ProjectRowsOntoL1Ball(a, 0.95).abs().sum(1).max().item<double>();
  if (worst > 0.95 + 1e-4) state.SkipWithError("projected row outside the L1 ball");
  state.SetItemsProcessed(state.iterations() * n * n);
  state.SetBytesProcessed(state.iterations() * n * n * 2 * sizeof(float));
}
BENCHMARK(BM_L1BallRows)
    ->Arg(100)
    ->Arg(300)
    ->Arg(1024)
    ->Arg(3000)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);

void BM_GroupNormBall(benchmark::State& state) {
  const std::vector<int64_t> shape =
      state.range(2) == 0 ? std::vector<int64_t>{state.range(0), state.range(1)}
                          : std::vector<int64_t>{state.range(0), state.range(1), 3, 3};
  torch::manual_seed(0);
  const torch::Tensor w0 = torch::randn(shape);
  const torch::Tensor w = w0 + 0.1 * torch::randn(shape);
  const double radius = 0.5 * GroupNormDistance(w, w0).item<double>();
  for (auto _ : state) benchmark::DoNotOptimize(ProjectOntoGroupNormBall(w, w0, radius));
  const double d = GroupNormDistance(ProjectOntoGroupNormBall(w, w0, radius), w0).item<double>();
  if (d > radius * (1 + 1e-4)) state.SkipWithError("projection outside the group-norm ball");
  state.SetItemsProcessed(state.iterations() * w.numel());
  state.SetBytesProcessed(state.iterations() * w.numel() * 3 * sizeof(float));
}
// {out, in, conv?}: PreAct-ResNet18 conv kernels (k = 3) and its 512 -> 10 classifier.
BENCHMARK(BM_GroupNormBall)
    ->Args({64, 64, 1})
    ->Args({128, 128, 1})
    ->Args({256, 256, 1})
    ->Args({512, 512, 1})
    ->Args({10, 512, 0})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) { return benchmarks::RunBenchmarks(argc, argv); }
