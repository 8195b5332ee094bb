#include "common/data/augment.h"

#include <algorithm>

namespace common::data {

torch::Tensor PaddingValue(const std::vector<double>& mean, const std::vector<double>& std) {
  TORCH_CHECK(mean.size() == std.size(), "mean has ", mean.size(), " entries, std ", std.size());
  std::vector<float> fill;
  for (size_t c = 0; c < mean.size(); ++c) fill.push_back(static_cast<float>(-mean[c] / std[c]));
  return torch::tensor(fill);
}

namespace {

// Crops every padded image [N, C, H + 2p, W + 2p] back to H x W at a random offset and flips it
// left-right with probability 1/2.
torch::Tensor CropFlip(const torch::Tensor& padded, int64_t padding, torch::Generator& gen) {
  const int64_t n = padded.size(0), h = padded.size(2) - 2 * padding,
                w = padded.size(3) - 2 * padding;
  const torch::Tensor offsets = torch::randint(2 * padding + 1, {n, 2}, gen, torch::kInt64);
  const torch::Tensor flips = torch::randint(2, {n}, gen, torch::kInt64);
  const auto off = offsets.accessor<int64_t, 2>();
  const auto flip = flips.accessor<int64_t, 1>();
  torch::Tensor out = torch::empty({n, padded.size(1), h, w}, padded.options());
  for (int64_t i = 0; i < n; ++i) {
    torch::Tensor crop = padded[i].narrow(1, off[i][0], h).narrow(2, off[i][1], w);
    out[i].copy_(flip[i] ? crop.flip({2}) : crop);
  }
  return out;
}

}  // namespace

torch::Tensor RandomCropFlip(const torch::Tensor& x, int64_t padding, const torch::Tensor& fill,
                             torch::Generator& gen) {
  TORCH_CHECK(x.dim() == 4, "RandomCropFlip wants [N, C, H, W], got ", x.sizes());
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  TORCH_CHECK(fill.numel() == c, "fill has ", fill.numel(), " values for ", c, " channels");
  torch::Tensor padded = fill.to(x.dtype())
                             .view({1, c, 1, 1})
                             .expand({n, c, h + 2 * padding, w + 2 * padding})
                             .clone();
  padded.narrow(2, padding, h).narrow(3, padding, w).copy_(x);
  return CropFlip(padded, padding, gen);
}

torch::Tensor RandomCropFlipReflect(const torch::Tensor& x, int64_t padding,
                                    torch::Generator& gen) {
  TORCH_CHECK(x.dim() == 4, "RandomCropFlipReflect wants [N, C, H, W], got ", x.sizes());
  return CropFlip(torch::reflection_pad2d(x, {padding, padding, padding, padding}), padding, gen);
}

torch::Tensor Cutout(const torch::Tensor& x, int64_t length, torch::Generator& gen) {
  TORCH_CHECK(x.dim() == 4, "Cutout wants [N, C, H, W], got ", x.sizes());
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const torch::Tensor ys = torch::randint(h, {n}, gen, torch::kInt64);
  const torch::Tensor xs = torch::randint(w, {n}, gen, torch::kInt64);
  torch::Tensor out = x.clone();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t cy = ys[i].item<int64_t>(), cx = xs[i].item<int64_t>();
    const int64_t y0 = std::max<int64_t>(cy - length / 2, 0), y1 = std::min(cy + length / 2, h);
    const int64_t x0 = std::max<int64_t>(cx - length / 2, 0), x1 = std::min(cx + length / 2, w);
    out[i].narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0).zero_();
  }
  return out;
}

}  // namespace common::data
