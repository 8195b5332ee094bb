// The plain C++ spectral-norm references against LibTorch (SVD, FFT): the oracles the GPU
// kernels are tested with must themselves be right. Runs everywhere, no GPU.
#include "excess_capacity/cuda/spectral_norm_host.h"

#include <torch/torch.h>

#include <vector>

#include "excess_capacity/cyclic_conv.h"
#include "gtest/gtest.h"

namespace excess_capacity::cuda {
namespace {

std::vector<float> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

TEST(SpectralNormHost, MatrixPowerIterationReachesTheLargestSingularValue) {
  torch::manual_seed(0);
  const torch::Tensor w = torch::randn({30, 20});
  std::vector<float> v(20, 1.0f);
  const double sigma = MatrixSpectralNormHost(ToVector(w), 30, 20, 2000, v);
  const double exact =
      std::get<1>(torch::linalg::svd(w.to(torch::kDouble), false, c10::nullopt))[0].item<double>();
  EXPECT_NEAR(sigma, exact, 1e-6 * exact);
  // v is the top right singular vector: ||W v|| = sigma.
  const double wv = w.mv(torch::tensor(v)).norm().item<double>();
  EXPECT_NEAR(wv, exact, 1e-4 * exact);
}

TEST(SpectralNormHost, ZeroMatrixGivesZero) {
  std::vector<float> v(4, 1.0f);
  EXPECT_EQ(MatrixSpectralNormHost(std::vector<float>(12, 0.0f), 3, 4, 5, v), 0.0);
}

TEST(SpectralNormHost, CyclicConvMatchesTheFftAndSvdRoute) {
  torch::manual_seed(1);
  struct Case {
    int cout, cin, k, h, w;
  };
  for (const Case& c :
       {Case{4, 3, 3, 8, 8}, Case{3, 5, 2, 6, 5}, Case{6, 6, 1, 4, 4}, Case{2, 2, 5, 7, 9}}) {
    const torch::Tensor w = torch::randn({c.cout, c.cin, c.k, c.k});
    const double want = CyclicConvSpectralNorm(w, c.h, c.w);
    const double got = CyclicConvSpectralNormHost(ToVector(w), c.cout, c.cin, c.k, c.h, c.w);
    EXPECT_NEAR(got, want, 1e-5 * want) << c.cout << "x" << c.cin << " k" << c.k;
  }
}

}  // namespace
}  // namespace excess_capacity::cuda
