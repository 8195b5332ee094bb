#include "common/data/augment.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace common::data {
namespace {

TEST(Augment, CropFlipIsATranslatedWindowOfThePaddedImage) {
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const torch::Tensor x = torch::arange(2 * 2 * 5 * 5, torch::kFloat).view({2, 2, 5, 5});
  const torch::Tensor fill = torch::tensor({-1.0f, -2.0f});
  for (int trial = 0; trial < 20; ++trial) {
    const torch::Tensor y = RandomCropFlip(x, 2, fill, gen);
    for (int64_t i = 0; i < 2; ++i) {
      // Brute force: y[i] must equal some window of the padded image, flipped or not.
      torch::Tensor padded = torch::constant_pad_nd(x[i], {2, 2, 2, 2}, 0);
      padded[0].masked_fill_(torch::constant_pad_nd(torch::ones({5, 5}), {2, 2, 2, 2}) == 0, -1);
      padded[1].masked_fill_(torch::constant_pad_nd(torch::ones({5, 5}), {2, 2, 2, 2}) == 0, -2);
      bool found = false;
      for (int64_t dy = 0; dy <= 4 && !found; ++dy) {
        for (int64_t dx = 0; dx <= 4 && !found; ++dx) {
          const torch::Tensor win = padded.narrow(1, dy, 5).narrow(2, dx, 5);
          found = torch::equal(y[i], win) || torch::equal(y[i], win.flip({2}));
        }
      }
      EXPECT_TRUE(found) << "trial " << trial << " image " << i;
    }
  }
}

TEST(Augment, ReflectCropFlipIsAWindowOfTheMirroredImage) {
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(4);
  const torch::Tensor x = torch::arange(3 * 6 * 6, torch::kFloat).view({1, 3, 6, 6});
  // Reflection by hand (edge not repeated): row index -1 -> 1, 6 -> 4.
  auto mirror = [](int64_t i) { return i < 0 ? -i : (i > 5 ? 10 - i : i); };
  torch::Tensor padded = torch::empty({3, 10, 10});
  for (int64_t r = 0; r < 10; ++r)
    for (int64_t c = 0; c < 10; ++c)
      padded.select(1, r).select(1, c).copy_(
          x[0].select(1, mirror(r - 2)).select(1, mirror(c - 2)));
  int distinct_offsets = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const torch::Tensor y = RandomCropFlipReflect(x, 2, gen)[0];
    bool found = false;
    for (int64_t dy = 0; dy <= 4 && !found; ++dy) {
      for (int64_t dx = 0; dx <= 4 && !found; ++dx) {
        const torch::Tensor win = padded.narrow(1, dy, 6).narrow(2, dx, 6);
        found = torch::equal(y, win) || torch::equal(y, win.flip({2}));
      }
    }
    EXPECT_TRUE(found) << "trial " << trial;
    distinct_offsets += !torch::equal(y, x[0]);
  }
  EXPECT_GT(distinct_offsets, 10);  // really random
}

TEST(Augment, CutoutZeroesAClippedSquare) {
  torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const torch::Tensor x = torch::ones({200, 1, 8, 8});
  const torch::Tensor y = Cutout(x, 4, gen);
  const torch::Tensor zeros = (y == 0).sum({1, 2, 3});
  // A 4x4 square whose centre is uniform over the image: 16 zeros when inside, fewer at borders.
  EXPECT_EQ(zeros.max().item<int64_t>(), 16);
  EXPECT_GE(zeros.min().item<int64_t>(), 4);  // centre at a corner keeps a 2x2 quarter
  EXPECT_LT(zeros.min().item<int64_t>(), 16);
  EXPECT_EQ(PaddingValue({0.5}, {0.25}).item<float>(), -2.0f);
}

}  // namespace
}  // namespace common::data
