// CPU timings of weightnorm_init: one SGD step (forward, backward, FusedSgd update; cross-entropy,
// batch 128) of the 20-layer WN-MLP of the paper's robustness experiments (784 -> 128 x 20 -> 10)
// and of the same MLP without weight norm; forward + backward of a WN ResNet-56 (H = 16, 32x32x3
// inputs, batch 128); and one WN layer against a plain one. The proposed init everywhere. Not
// measured: data loading. Compare with benchmarks/peers/weightnorm_init_reference.py at equal
// threads.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "benchmarks/bench_main.h"
#include "common/train/fused_sgd.h"
#include "weightnorm_init/init.h"
#include "weightnorm_init/models.h"
#include "weightnorm_init/weight_norm.h"

namespace {

using namespace weightnorm_init;

std::shared_ptr<NetImpl> Net(const ModelOptions& options) {
  const InitScheme scheme =
      ParseInitScheme(options.weight_norm() ? "orthogonal_proposed" : "orthogonal",
                      options.weight_norm())
          .value();
  return BuildModel(options, scheme, {}).value();
}

void BM_MlpSgdStep(benchmark::State& state) {
  torch::manual_seed(0);
  auto net = Net(ModelOptions("mlp", 1, 28, 10).num_layers(20).weight_norm(state.range(0) == 1));
  common::train::FusedSgd sgd(net->parameters(), torch::optim::SGDOptions(0.01));
  const torch::Tensor x = torch::randn({128, 1, 28, 28}), y = torch::randint(10, {128});
  for (auto _ : state) {
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    net->zero_grad(/*set_to_none=*/true);
    loss.backward();
    sgd.step();
  }
  // Seconds per Fashion-MNIST epoch (422 steps of 128 from the 54000-image training split).
  state.counters["epoch_s"] = benchmark::Counter(
      state.iterations() / 422.0, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_MlpSgdStep)
    ->ArgName("wn")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ResNet56ForwardBackward(benchmark::State& state) {
  torch::manual_seed(0);
  auto net = Net(ModelOptions("resnet", 3, 32, 10).hidden_size(16).num_blocks(9).weight_norm(true));
  const torch::Tensor x = torch::randn({128, 3, 32, 32}), y = torch::randint(10, {128});
  for (auto _ : state) {
    net->zero_grad();
    torch::nn::functional::cross_entropy(net->forward(x), y).backward();
  }
}
BENCHMARK(BM_ResNet56ForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

// One layer's forward + backward: WN (wn:1) against a plain layer (wn:0); conv:1 is a 3x3 conv
// 64 -> 64 on 16x16 maps, conv:0 a 128 -> 128 Linear; batch 128.
void BM_LayerForwardBackward(benchmark::State& state) {
  torch::manual_seed(0);
  const bool conv = state.range(1) == 1;
  WnLayer layer(WnLayerOptions(conv ? 64 : 128, conv ? 64 : 128, conv ? 3 : 0)
                    .padding(conv ? 1 : 0)
                    .weight_norm(state.range(0) == 1));
  const torch::Tensor x = conv ? torch::randn({128, 64, 16, 16}) : torch::randn({128, 128});
  for (auto _ : state) {
    layer->zero_grad();
    layer(x).sum().backward();
  }
}
BENCHMARK(BM_LayerForwardBackward)
    ->ArgNames({"wn", "conv"})
    ->Args({1, 0})
    ->Args({0, 0})
    ->Args({1, 1})
    ->Args({0, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return benchmarks::RunBenchmarks(argc, argv); }
