// Training under load: one Adam step of implicit_dl's ImplicitModel (n = 100, Fashion-MNIST
// shapes, batch 100) while `load` other processes spin on the CPU, with
// - threads=1: one intra-op thread;
// - threads=-1: every core, fixed (the old default);
// - threads=0: the adaptive default (common/util/thread_budget.h), applied at every step as the
//   training loops do through ProgressLine::Update.
// The load processes start before the timing (and, for the adaptive mode, 1.2 s before it, so the
// sampler has seen them) and are killed after it. Not checked: the step's result (picard_bench
// times the same step).
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "benchmarks/bench_main.h"
#include "common/util/thread_budget.h"
#include "implicit_dl/implicit_model.h"

namespace {

int Cores() { return std::max(1u, std::thread::hardware_concurrency()); }

// `n` child processes that spin until killed.
class Load {
 public:
  explicit Load(int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        volatile unsigned long x = 0;
        while (true) x = x + 1;
      }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~Load() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }

 private:
  std::vector<pid_t> pids_;
};

void BM_TrainStepUnderLoad(benchmark::State& state) {
  const int64_t load = state.range(0), mode = state.range(1);
  torch::manual_seed(0);
  implicit_dl::ImplicitModel model(implicit_dl::ImplicitModelOptions(100, 784, 10));
  torch::optim::Adam opt(model->parameters(), 5e-3);
  const torch::Tensor u = torch::randn({100, 784}), y = torch::randint(10, {100});
  Load busy(load);
  if (mode == 0) {
    common::util::StartAdaptiveThreads(Cores());
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    at::set_num_threads(common::util::ThreadBudget());
  } else {
    at::set_num_threads(mode == 1 ? 1 : Cores());
  }
  for (auto _ : state) {
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(u), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (mode == 0) common::util::ApplyThreadBudget();
  }
  state.counters["threads_at_end"] = at::get_num_threads();
}
// Adaptive last: once started, its sampler runs for the rest of the process.
BENCHMARK(BM_TrainStepUnderLoad)
    ->ArgNames({"load", "threads"})
    ->ArgsProduct({{0, 1, 2}, {1, -1}})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) { return benchmarks::RunBenchmarks(argc, argv); }
