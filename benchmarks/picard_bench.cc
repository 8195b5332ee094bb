// CPU timings of implicit_dl at the reference examples' sizes, (n, p, batch) = (100, 784, 100)
// (MNIST) and (300, 3072, 100) (CIFAR), with the Picard (reference) and Anderson solvers:
// - BM_Forward: the forward fixed-point solve X = relu(A X + B U) to tol 3e-6;
// - BM_Backward: the adjoint solve V = Dphi o (A^T V) + Dphi o G at that fixed point;
// - BM_TrainStep: one Adam step of ImplicitModel (projection of A, forward, cross-entropy,
//   implicit backward, update), as in the reference's training loop.
// The model is at its reference initialisation (randn / n) after `warm` Adam steps on a fixed
// synthetic batch (inputs uniform in the reference's normalised ranges, random labels), so the
// iteration counts are those of a model in training, not of a fresh one. Counters report
// iterations per solve and time per iteration. Each fixture checks the fixed-point residual.
// Not measured here: data loading and validation passes.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "benchmarks/bench_main.h"
#include "implicit_dl/implicit_function.h"
#include "implicit_dl/implicit_model.h"

namespace {

using implicit_dl::ImplicitModel;
using implicit_dl::ImplicitModelOptions;
using implicit_dl::Solver;

constexpr int64_t kBatch = 100;
constexpr int kWarmSteps = 50;

struct Problem {
  ImplicitModel model{nullptr};
  torch::Tensor u, y;
};

// state.range(0) = n (100 or 300), state.range(1) = solver (0 Picard, 1 Anderson).
Problem MakeProblem(const benchmark::State& state) {
  const int64_t n = state.range(0);
  const int64_t p = n == 100 ? 784 : 3072;
  torch::manual_seed(0);
  ImplicitModelOptions options(n, p, 10);
  options.solver().solver = state.range(1) == 0 ? Solver::kPicard : Solver::kAnderson;
  Problem pr{ImplicitModel(options), torch::rand({kBatch, p}) - 0.5, torch::randint(10, {kBatch})};
  if (n == 300) pr.u.mul_(2);  // CIFAR inputs are in [-1, 1]
  torch::optim::Adam opt(pr.model->parameters(), n == 100 ? 5e-3 : 5e-4);
  for (int i = 0; i < kWarmSteps; ++i) {
    opt.zero_grad();
    torch::nn::functional::cross_entropy(pr.model->forward(pr.u), pr.y).backward();
    opt.step();
  }
  return pr;
}

void ReportIterations(benchmark::State& state, double iterations_per_solve) {
  state.counters["iters"] = iterations_per_solve;
  state.counters["us_per_iter"] =
      benchmark::Counter(iterations_per_solve * static_cast<double>(state.iterations()) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_Forward(benchmark::State& state) {
  Problem pr = MakeProblem(state);
  torch::NoGradGuard no_grad;
  const torch::Tensor A = pr.model->A, U = pr.u.t().contiguous();
  const torch::Tensor Z = pr.model->B.mm(U), X0 = torch::zeros({A.size(0), kBatch});
  implicit_dl::FixedPoint fp;
  for (auto _ : state) {
    fp = implicit_dl::SolveForward(A, Z, X0, {}, pr.model->options.solver());
    benchmark::DoNotOptimize(fp.x);
  }
  const double residual = (torch::relu(A.mm(fp.x) + Z) - fp.x).abs().max().item<double>();
  if (!fp.converged || residual >= 3e-6) state.SkipWithError("forward solve did not converge");
  ReportIterations(state, static_cast<double>(fp.iterations));
}

void BM_Backward(benchmark::State& state) {
  Problem pr = MakeProblem(state);
  torch::NoGradGuard no_grad;
  const torch::Tensor A = pr.model->A, U = pr.u.t().contiguous();
  const torch::Tensor X = pr.model->HiddenState(pr.u).t().contiguous();
  const torch::Tensor dphi = (A.mm(X) + pr.model->B.mm(U) > 0).to(torch::kFloat32);
  const torch::Tensor G = torch::randn_like(X) / kBatch;
  implicit_dl::FixedPoint fp;
  for (auto _ : state) {
    fp = implicit_dl::SolveAdjoint(A, dphi, G, pr.model->options.solver());
    benchmark::DoNotOptimize(fp.x);
  }
  const double residual = (dphi * (A.t().mm(fp.x) + G) - fp.x).abs().max().item<double>();
  if (!fp.converged || residual >= 3e-6) state.SkipWithError("adjoint solve did not converge");
  ReportIterations(state, static_cast<double>(fp.iterations));
}

void BM_TrainStep(benchmark::State& state) {
  Problem pr = MakeProblem(state);
  torch::optim::Adam opt(pr.model->parameters(), state.range(0) == 100 ? 5e-3 : 5e-4);
  double iterations = 0;
  for (auto _ : state) {
    torch::Tensor loss = torch::nn::functional::cross_entropy(pr.model->forward(pr.u), pr.y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    const implicit_dl::SolveStats s = pr.model->last_stats();
    iterations += static_cast<double>(s.forward_iterations + s.backward_iterations);
  }
  state.counters["iters"] = iterations / static_cast<double>(state.iterations());
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "anderson"});
  for (int64_t n : {100, 300}) {
    for (int64_t solver : {0, 1}) b->Args({n, solver});
  }
  b->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_Forward)->Apply(Sizes);
BENCHMARK(BM_Backward)->Apply(Sizes);
BENCHMARK(BM_TrainStep)->Apply(Sizes);

}  // namespace

int main(int argc, char** argv) { return benchmarks::RunBenchmarks(argc, argv); }
