#include "benchmarks/bench_main.h"

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "common/util/allocator.h"
#include "common/util/blas.h"

namespace benchmarks {
namespace {

// Debian selects the BLAS behind libblas.so.3 with update-alternatives.
std::string BlasLibrary() {
  std::error_code ec;
  const std::filesystem::path link = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu";
  const auto target = std::filesystem::read_symlink(link, ec);
  return ec ? "unknown" : target.string();
}

}  // namespace

int RunBenchmarks(int argc, char** argv) {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* env = std::getenv("BENCH_THREADS")) threads = std::atoi(env);
  at::set_num_threads(std::max(1, threads));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));
  benchmark::AddCustomContext("blas", BlasLibrary());
  benchmark::AddCustomContext("blas_core", common::util::BlasCoreName());
  benchmark::AddCustomContext("malloc", common::util::MallocName());
  if (const std::string advice = common::util::BlasAdvice(); !advice.empty()) {
    std::fprintf(stderr, "WARNING: %s\n", advice.c_str());
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace benchmarks
