// CPU timings of excess_capacity at the reference's CIFAR setting:
// - BM_ResNetProject: project(1) of the whole no-stride PreAct-ResNet18 (lip 2.0 0.8 1.4 1.0,
//   dist 90 90 90 inf), from weights one SGD-sized step outside the constraints;
// - BM_ResNetProjectAfterSgd: project(1) in the state the training loop meets it: 15 SGD steps
//   (lr 0.003, momentum 0.9, wd 1e-4, batch 32) after a projection;
// - BM_ResNetLip: the network's lip() (warm-started power iterations, 5 per conv);
// - BM_ConvProject: project(1) of single conv layers 64->64 at 8x8, 256->256 at 2x2 (2x2
//   kernel) and 512->512 at 1x1 (1x1 kernel), lip 0.8 and dist 90;
// - BM_TrainStep: one SGD step (forward, cross-entropy, backward, update) at batch 32.
// Each projection fixture checks that the result is closer to the constraints than its input.
// Not measured: the GPU, data loading.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "benchmarks/bench_main.h"
#include "excess_capacity/constrained_layers.h"
#include "excess_capacity/models.h"

namespace {

using namespace excess_capacity;

std::shared_ptr<ConstrainedNetwork> ResNet() {
  torch::manual_seed(0);
  auto c = ParseConstraints({2.0, 0.8, 1.4, 1.0}, {90, 90, 90, -1}, ProjMode::kOrthogonal).value();
  auto net = MakeNoStridePreActResNet18(10, 3, c, false);
  net->Init(3, 32, 32);
  return net;
}

void Perturb(torch::nn::Module& m, double scale) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters())
    p.add_(scale * torch::randn_like(p) / std::sqrt(static_cast<double>(p[0].numel())));
}

void BM_ResNetProject(benchmark::State& state) {
  auto net = ResNet();
  Perturb(*net, 0.5);
  std::vector<torch::Tensor> start;
  for (auto& p : net->parameters()) start.push_back(p.detach().clone());
  for (auto _ : state) {
    state.PauseTiming();
    {
      torch::NoGradGuard no_grad;
      auto params = net->parameters();
      for (size_t i = 0; i < params.size(); ++i) params[i].copy_(start[i]);
    }
    state.ResumeTiming();
    net->Project(1);
  }
}
BENCHMARK(BM_ResNetProject)->Unit(benchmark::kMillisecond)->UseRealTime();

void RestoreAndTime(benchmark::State& state, ConstrainedNetwork& net) {
  std::vector<torch::Tensor> start;
  for (auto& p : net.parameters()) start.push_back(p.detach().clone());
  for (auto _ : state) {
    state.PauseTiming();
    {
      torch::NoGradGuard no_grad;
      auto params = net.parameters();
      for (size_t i = 0; i < params.size(); ++i) params[i].copy_(start[i]);
    }
    state.ResumeTiming();
    net.Project(1);
  }
}

void BM_ResNetProjectAfterSgd(benchmark::State& state) {
  auto net = ResNet();
  torch::optim::SGD sgd(net->parameters(),
                        torch::optim::SGDOptions(0.003).momentum(0.9).weight_decay(1e-4));
  const torch::Tensor y = torch::randint(10, {32});
  for (int step = 0; step < 30; ++step) {  // two projection periods: start from a projected state
    if (step == 15) net->Project(1);
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(net->forward(torch::randn({32, 3, 32, 32})), y);
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
  RestoreAndTime(state, *net);
}
BENCHMARK(BM_ResNetProjectAfterSgd)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ResNetLip(benchmark::State& state) {
  auto net = ResNet();
  net->Lip();
  for (auto _ : state) benchmark::DoNotOptimize(net->Lip());
}
BENCHMARK(BM_ResNetLip)->Unit(benchmark::kMillisecond)->UseRealTime();

// {channels, input side}
void BM_ConvProject(benchmark::State& state) {
  torch::manual_seed(0);
  const int64_t c = state.range(0), side = state.range(1);
  ConstrainedConv2d conv(c, c, 3, 1, ConstraintOptions().lip_cond(0.8).dist_cond(90));
  conv->Init(side, side);
  Perturb(*conv, 1.0);
  const torch::Tensor start = conv->weight.detach().clone();
  const double before = conv->LipExact();
  for (auto _ : state) {
    state.PauseTiming();
    {
      torch::NoGradGuard no_grad;
      conv->weight.copy_(start);
    }
    state.ResumeTiming();
    conv->Project(1);
  }
  if (conv->LipExact() >= before)
    state.SkipWithError("projection did not lower the Lipschitz constant");
  state.counters["kernel"] = static_cast<double>(conv->kernel_size);
}
BENCHMARK(BM_ConvProject)
    ->Args({64, 8})
    ->Args({256, 2})
    ->Args({512, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_TrainStep(benchmark::State& state) {
  auto net = ResNet();
  torch::optim::SGD sgd(net->parameters(),
                        torch::optim::SGDOptions(0.003).momentum(0.9).weight_decay(1e-4));
  const torch::Tensor x = torch::randn({32, 3, 32, 32});
  const torch::Tensor y = torch::randint(10, {32});
  for (auto _ : state) {
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    sgd.zero_grad();
    loss.backward();
    sgd.step();
  }
}
BENCHMARK(BM_TrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return benchmarks::RunBenchmarks(argc, argv); }
