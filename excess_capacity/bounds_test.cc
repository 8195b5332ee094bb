#include "excess_capacity/bounds.h"

#include <cmath>

#include "gtest/gtest.h"

namespace excess_capacity {
namespace {

TEST(HurwitzZeta, KnownValues) {
  EXPECT_NEAR(HurwitzZeta(1.5, 1.0), 2.6123753486854883, 1e-9);  // zeta(3/2)
  EXPECT_NEAR(HurwitzZeta(2.0, 1.0), M_PI * M_PI / 6, 1e-9);     // zeta(2)
  EXPECT_NEAR(HurwitzZeta(2.0, 0.5), M_PI * M_PI / 2, 1e-9);     // (2^2 - 1) zeta(2)
}

BoundInputs TwoLayers() {
  BoundInputs in;
  in.layers = {{"conv1", 2.0, 3.0, 100, 8, 8, 3}, {"fc", 0.5, 1.0, 50, 1, 1, 1}};
  in.data_norm = 40;
  in.n = 100;
  in.margin = 2;
  return in;
}

TEST(Bounds, FirstFormByHand) {
  const BoundInputs in = TwoLayers();
  // C_i = (4/2) (40/10) (2 * 0.5) b_i / s_i = 8 b_i / s_i: C_1 = 12, C_2 = 16.
  const double sum = std::pow(12.0, 2.0 / 3) + std::pow(16.0, 2.0 / 3);
  const double code =
      4.0 / 100 + 12 * std::log(100.0) / 10 * std::sqrt(std::log(200.0)) * std::pow(sum, 1.5);
  EXPECT_NEAR(FirstBound(in, false), code, 1e-9 * code);
  double h = 0;
  for (int k = 1; k <= 99; ++k) h += 1.0 / k;
  const double ceil_sum = std::ceil(std::pow(12.0, 2.0 / 3)) + std::ceil(std::pow(16.0, 2.0 / 3));
  const double paper =
      4.0 / 100 + 12 * h / 10 * std::sqrt(std::log(200.0)) * std::pow(ceil_sum, 1.5);
  EXPECT_NEAR(FirstBound(in, true), paper, 1e-9 * paper);
}

TEST(Bounds, SecondFormAndBartlettByHand) {
  const BoundInputs in = TwoLayers();
  const double zeta = 2.6123753486854883;
  double sum = 0;
  const double params[] = {100, 50}, c[] = {12, 16};
  for (int i = 0; i < 2; ++i) {
    const double x = 4 * c[i] * c[i];  // L^2 C_i^2 with L = 2
    sum += 2 * params[i] * (std::log1p(x) + std::cbrt(zeta) * HurwitzZeta(1.5, 1 + 1 / (x * x)));
  }
  EXPECT_NEAR(SecondBound(in, false), 12 / 10.0 * std::sqrt(sum), 1e-9);
  // Bartlett: C_1 * 8^2 / 3, C_2 * 1; W = max(100 (8 * 8 / 3)^2, 50).
  const double s2 = std::pow(12.0 * 64 / 3, 2.0 / 3) + std::pow(16.0, 2.0 / 3);
  const double w = 100 * std::pow(64.0 / 3, 2);
  const double expected =
      0.04 + 12 * std::log(100.0) / 10 * std::sqrt(std::log(2 * w)) * std::pow(s2, 1.5);
  EXPECT_NEAR(BartlettBound(in), expected, 1e-9 * expected);
}

}  // namespace
}  // namespace excess_capacity
