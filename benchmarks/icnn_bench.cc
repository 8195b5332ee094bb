// CPU timings of icnn: one Adam step (common/train FusedAdam; summed cross-entropy) of the depth
// experiment's ICNN with 5 convex layers, 784 wide, batch 64 (lazy clipping + principled init, and
// the non-convex net for scale; ftz:1 flushes subnormal floats to zero for that benchmark only),
// and the principled initialiser on a 3072 x 3072 layer. The step fixture checks that no effective
// weight is negative afterwards; the Tox21 network's step at batch 256. Not measured: data loading.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <limits>

#include "benchmarks/bench_main.h"
#include "common/train/fused_adam.h"
#include "icnn/convex_init.h"
#include "icnn/convex_modules.h"
#include "icnn/tox21_data.h"
#include "icnn/tox21_experiment.h"

namespace {

using namespace icnn;

void BM_IcnnTrainStep(benchmark::State& state) {
  torch::manual_seed(0);
  at::globalContext().setFlushDenormal(state.range(1) == 1);
  const Positivity p = state.range(0) == 0 ? Positivity::kNone : Positivity::kLazyClip;
  IcnnMlp net(IcnnOptions(784, 10).num_hidden(5).positivity(p).init(
      p == Positivity::kNone ? InitScheme::kDefault : InitScheme::kPrincipled));
  common::train::FusedAdam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor x = torch::randn({64, 784}), y = torch::randint(10, {64});
  const auto sum = torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum);
  for (auto _ : state) {
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y, sum);
    net->zero_grad(/*set_to_none=*/true);  // backward stores fresh gradients: no zero + add
    loss.backward();
    adam.step();
  }
  at::globalContext().setFlushDenormal(false);
  net->forward(x);  // lazy clipping happens at the forward
  for (auto& layer : net->convex) {
    if (p != Positivity::kNone && layer->weight.min().item<double>() < 0)
      state.SkipWithError("negative weight");
  }
}
BENCHMARK(BM_IcnnTrainStep)
    ->ArgNames({"convex", "ftz"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The Tox21 network (reference get_model; CDDD descriptors, 512 inputs) at batch 256: masked
// summed BCE with about 20% of the labels missing, Adam. model: 0 fc, 1 icnn (lazy clipping).
void BM_Tox21TrainStep(benchmark::State& state) {
  torch::manual_seed(0);
  Tox21Config config;
  config.model = state.range(0) == 0 ? "fc" : "icnn";
  Tox21Net net(512, config);
  common::train::FusedAdam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor x = torch::randn({256, 512});
  torch::Tensor labels = torch::randint(2, {256, 12}).to(torch::kFloat);
  labels.masked_fill_(torch::rand({256, 12}) < 0.2, std::numeric_limits<float>::quiet_NaN());
  for (auto _ : state) {
    torch::Tensor loss = MaskedBceWithLogits(net->forward(x), labels, /*sum=*/true);
    net->zero_grad(/*set_to_none=*/true);  // backward stores fresh gradients: no zero + add
    loss.backward();
    adam.step();
  }
}
BENCHMARK(BM_Tox21TrainStep)
    ->ArgName("icnn")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ConvexInit(benchmark::State& state) {
  torch::Tensor w = torch::empty({3072, 3072}), b = torch::empty({3072});
  const ConvexInitialiser init;
  for (auto _ : state) benchmark::DoNotOptimize(init.Initialise(w, b, Positivity::kLazyClip));
  state.SetItemsProcessed(state.iterations() * w.numel());
}
BENCHMARK(BM_ConvexInit)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return benchmarks::RunBenchmarks(argc, argv); }
