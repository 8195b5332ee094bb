// Data-parallel training on c10d / Gloo (common/dist) on this machine: each benchmark starts its
// ranks as processes (copies of this binary, torchrun's variables, one LibTorch thread each) and
// reports rank 0's timings.
// - BM_Step/model/ranks: training steps per second at the same global batch with 1 and 2 ranks:
//   model 0 = excess_capacity's ResNet18 (no stride, constrained layers, batch 32, SGD; the
//   projection is not part of the step), model 1 = weightnorm_init's 20-layer WN-MLP (batch 128,
//   FusedSgd). Also: gradient MB per step and the part of a step spent waiting for the gradient
//   all-reduce after backward (allreduce_wait_ms; the rest overlaps backward).
// - BM_AllReduce/MB: one all-reduce of a float32 buffer of that size between 2 ranks.
// Time per iteration = time per global step (manual time, rank 0's clock). Scaling efficiency
// = steps_per_s(2 ranks) / (2 * steps_per_s(1 rank)); see RESULTS.md.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmarks/bench_main.h"
#include "common/dist/gradient_sync.h"
#include "common/dist/process_group.h"
#include "common/dist/testing.h"
#include "common/train/fused_sgd.h"
#include "excess_capacity/models.h"
#include "weightnorm_init/init.h"
#include "weightnorm_init/models.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct Model {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  torch::Tensor x, y;  // the global batch
};

Model MakeModel(int kind) {
  torch::manual_seed(0);
  Model m;
  if (kind == 0) {
    auto c = excess_capacity::ParseConstraints({2.0, 0.8, 1.4, 1.0}, {90, 90, 90, -1},
                                               excess_capacity::ProjMode::kOrthogonal)
                 .value();
    auto net = excess_capacity::MakeNoStridePreActResNet18(10, 3, c, false);
    net->Init(3, 32, 32);
    m.module = net;
    m.forward = [net](const torch::Tensor& x) { return net->forward(x); };
    m.optimizer = std::make_unique<torch::optim::SGD>(
        net->parameters(), torch::optim::SGDOptions(0.003).momentum(0.9).weight_decay(1e-4));
    m.x = torch::randn({32, 3, 32, 32});
    m.y = torch::randint(10, {32});
  } else {
    using namespace weightnorm_init;
    const ModelOptions options = ModelOptions("mlp", 1, 28, 10).num_layers(20).weight_norm(true);
    auto net =
        BuildModel(options, ParseInitScheme("orthogonal_proposed", true).value(), {}).value();
    m.module = net;
    m.forward = [net](const torch::Tensor& x) { return net->forward(x); };
    m.optimizer = std::make_unique<common::train::FusedSgd>(net->parameters(),
                                                            torch::optim::SGDOptions(0.01));
    m.x = torch::randn({128, 1, 28, 28});
    m.y = torch::randint(10, {128});
  }
  return m;
}

// A rank's work (in a spawned process): writes "<seconds per step> <wait per step> <bytes>" (or
// "<seconds per all-reduce> 0 <bytes>") to $DIST_BENCH_OUT from rank 0.
int Worker() {
  torch::set_num_threads(1);
  common::dist::ProcessGroup& world = **common::dist::World();
  const std::string mode = std::getenv("DIST_BENCH_MODE");
  const int steps = std::atoi(std::getenv("DIST_BENCH_STEPS"));
  double per_step = 0, wait = 0, bytes = 0;
  std::vector<torch::Tensor> barrier = {torch::zeros({1})};
  if (mode == "agree") {  // the per-step stop agreement of data-parallel RunEpochs
    const auto agree = world.InterruptAgreement();
    for (int i = 0; i < 3; ++i) (void)agree(0);
    (void)world.AllReduceSum(barrier);
    const auto start = Clock::now();
    for (int i = 0; i < steps; ++i) (void)agree(0);
    per_step = Seconds(start, Clock::now()) / steps;
    bytes = 16;
  } else if (mode == "allreduce") {
    bytes = std::atof(std::getenv("DIST_BENCH_BYTES"));
    std::vector<torch::Tensor> buffer = {torch::ones({static_cast<int64_t>(bytes / 4)})};
    for (int i = 0; i < 3; ++i) (void)world.AllReduceSum(buffer);
    (void)world.AllReduceSum(barrier);
    const auto start = Clock::now();
    for (int i = 0; i < steps; ++i) (void)world.AllReduceSum(buffer);
    per_step = Seconds(start, Clock::now()) / steps;
  } else {
    Model m = MakeModel(std::atoi(mode.c_str()));
    for (const auto& p : m.module->parameters()) bytes += p.numel() * 4.0;
    const auto bucket_bytes =
        static_cast<int64_t>(std::atof(std::getenv("DIST_BENCH_BUCKET_MB")) * (1 << 20));
    common::dist::GradientSync sync(world, m.module->parameters(), bucket_bytes);
    const torch::Tensor mine = world.Shard(torch::arange(m.x.size(0)));
    const torch::Tensor x = m.x.index({mine}), y = m.y.index({mine});
    auto step = [&] {
      const torch::Tensor loss = torch::nn::functional::cross_entropy(m.forward(x), y);
      m.optimizer->zero_grad();
      const auto before = Clock::now();
      if (!sync.Backward(loss, mine.size(0), m.x.size(0)).ok()) std::exit(3);
      m.optimizer->step();
      return Seconds(before, Clock::now());
    };
    for (int i = 0; i < 3; ++i) step();
    // The wait: Backward's time less a one-process backward's, measured on this rank alone.
    double backward_alone = 0;
    {
      common::dist::ProcessGroup one;
      common::dist::GradientSync plain(one, m.module->parameters());
      for (int i = 0; i < steps; ++i) {
        const torch::Tensor loss = torch::nn::functional::cross_entropy(m.forward(x), y);
        m.optimizer->zero_grad();
        const auto before = Clock::now();
        (void)plain.Backward(loss, 1, 1);
        backward_alone += Seconds(before, Clock::now());
      }
    }
    (void)world.AllReduceSum(barrier);
    const auto start = Clock::now();
    double backward = 0;
    for (int i = 0; i < steps; ++i) backward += step();
    per_step = Seconds(start, Clock::now()) / steps;
    wait = world.distributed() ? std::max(0.0, (backward - backward_alone) / steps) : 0;
  }
  if (world.is_main()) {
    std::ofstream(std::getenv("DIST_BENCH_OUT")) << per_step << " " << wait << " " << bytes << "\n";
  }
  return 0;
}

// Runs `ranks` workers once; sets the iteration time to rank 0's seconds per step.
void RunRanks(benchmark::State& state, int ranks, const std::string& mode, int steps,
              double bytes = 0, double bucket_mb = 25) {
  const std::string out = absl::StrCat(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp",
                                       "/dist_bench_", getpid(), ".txt");
  for (auto _ : state) {
    const auto results = common::dist::SpawnSelf(
        ranks, {},
        {"DIST_BENCH_MODE=" + mode, absl::StrCat("DIST_BENCH_STEPS=", steps),
         absl::StrCat("DIST_BENCH_BYTES=", bytes), absl::StrCat("DIST_BENCH_BUCKET_MB=", bucket_mb),
         "DIST_BENCH_OUT=" + out},
        600);
    for (const auto& r : results) {
      if (r.exit_code != 0) {
        state.SkipWithError(("a rank failed: " + r.output).c_str());
        return;
      }
    }
    double per_step = 0, wait = 0, grad_bytes = 0;
    std::ifstream(out) >> per_step >> wait >> grad_bytes;
    state.SetIterationTime(per_step);
    state.counters["steps_per_s"] = 1 / per_step;
    state.counters["allreduce_wait_ms"] = wait * 1e3;
    state.counters["MB"] = grad_bytes / 1e6;
  }
  std::remove(out.c_str());
}

void BM_Step(benchmark::State& state) {
  const int model = static_cast<int>(state.range(0));
  RunRanks(state, static_cast<int>(state.range(1)), std::to_string(model), model == 0 ? 20 : 200, 0,
           static_cast<double>(state.range(2)));
}
// bucket_mb: GradientSync's bucket size after the first (1 MB); 25 is DDP's default.
BENCHMARK(BM_Step)
    ->ArgNames({"model", "ranks", "bucket_mb"})
    ->Args({0, 1, 25})
    ->Args({0, 2, 25})
    ->Args({0, 2, 4})
    ->Args({0, 2, 2})
    ->Args({1, 1, 25})
    ->Args({1, 2, 25})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_AllReduce(benchmark::State& state) {
  RunRanks(state, 2, "allreduce", 20, static_cast<double>(state.range(0)) * 1e6);
}
BENCHMARK(BM_AllReduce)
    ->ArgName("MB")
    ->Arg(1)
    ->Arg(4)
    ->Arg(16)
    ->Arg(45)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// EpochLoopOptions::agree_interrupt between 2 ranks (an all-reduce of two doubles): its cost per
// step of a data-parallel trainer.
void BM_InterruptAgreement(benchmark::State& state) { RunRanks(state, 2, "agree", 200); }
BENCHMARK(BM_InterruptAgreement)->Iterations(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  if (common::dist::InSpawnedRank()) return Worker();
  return benchmarks::RunBenchmarks(argc, argv);
}
