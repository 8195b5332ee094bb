// CPU timings of deep_weight_prior: one train_bnn step of the fconv BNN (32, 128) with the DWP
// prior on both conv layers (batch 50, S = 1: forward with local reparameterisation, the KL bound
// through the 7x7 (z 2, hidden 32) and 5x5 (z 4, hidden 64) kernel VAEs, backward, Adam), the KL
// estimate alone (forward + backward), and a 5x5 VAE training step at batch 128. Randomly
// initialised VAEs (the cost does not depend on their weights). Not measured: data loading.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "benchmarks/bench_main.h"
#include "deep_weight_prior/kernel_vae.h"
#include "deep_weight_prior/nets.h"
#include "deep_weight_prior/priors.h"

namespace {

using namespace deep_weight_prior;

struct NetWithPriors {
  DwpNet net{nullptr};
  std::vector<LayerPrior> priors;
};

NetWithPriors MakeNet() {
  torch::manual_seed(0);
  NetOptions o;
  o.c1 = 32, o.c2 = 128;
  NetWithPriors d{DwpNet(o), {}};
  for (auto [k, z, h] : {std::tuple<int64_t, int64_t, int64_t>{7, 2, 32}, {5, 4, 64}}) {
    KernelVae vae(KernelVaeOptions(k, z, h));
    Freeze(vae);
    d.priors.push_back({PriorKind::kDwp, vae, 1});
  }
  return d;
}

void BM_BnnStep(benchmark::State& state) {
  NetWithPriors d = MakeNet();
  torch::optim::Adam adam(d.net->parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor x = torch::rand({50, 1, 28, 28}), y = torch::randint(10, {50});
  const auto sum = torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum);
  for (auto _ : state) {
    const torch::Tensor data =
        torch::nn::functional::cross_entropy(d.net->forward(x), y, sum) * (50.0 / 50.0);
    adam.zero_grad();
    (data + NetworkKl(*d.net, d.priors).value()).backward();
    adam.step();
  }
}
BENCHMARK(BM_BnnStep)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DwpKl(benchmark::State& state) {
  NetWithPriors d = MakeNet();
  for (auto _ : state) {
    d.net->zero_grad();
    NetworkKl(*d.net, d.priors).value().backward();
  }
  state.counters["kernels"] = 32 + 32 * 128;
}
BENCHMARK(BM_DwpKl)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_VaeStep(benchmark::State& state) {
  torch::manual_seed(0);
  KernelVae vae(KernelVaeOptions(5, 4, 64));
  torch::optim::Adam adam(vae->parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor w = 0.1 * torch::randn({128, 1, 5, 5});
  for (auto _ : state) {
    adam.zero_grad();
    vae->Loss(w).total().backward();
    adam.step();
  }
}
BENCHMARK(BM_VaeStep)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) { return benchmarks::RunBenchmarks(argc, argv); }
