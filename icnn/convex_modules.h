// Input-convex building blocks (Hoedt & Klambauer 2023, convex_modules.py) and the MLP of the
// depth experiment:
//
//   x [B, D] -> Linear(D, D) (any sign, LeCun) -> [ReLU -> ConvexLinear(D, D)] x (hidden - 1)
//            -> ReLU -> ConvexLinear(D, C)          (+ Linear(D, out, no bias)(x) per convex layer
//                                                    with `skip`, the classic ICNN passthrough)
//
// Convex in x because non-negative weights preserve convexity of convex non-decreasing inputs and
// ReLU is convex and non-decreasing.
#ifndef ICNN_CONVEX_MODULES_H_
#define ICNN_CONVEX_MODULES_H_

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "absl/status/status.h"
#include "icnn/positivity.h"

namespace icnn {

// y = positivity(weight) x + bias.
class ConvexLinearImpl : public torch::nn::Cloneable<ConvexLinearImpl> {
 public:
  ConvexLinearImpl(int64_t in_features, int64_t out_features, Positivity positivity);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor EffectiveWeight();

  int64_t in_features, out_features;
  Positivity positivity;
  torch::Tensor weight;  // [out, in], raw
  torch::Tensor bias;    // [out]
};
TORCH_MODULE(ConvexLinear);

enum class InitScheme {
  kDefault,     // He on every layer after the first (the "ICNN default init" baseline)
  kPrincipled,  // the paper's ConvexInitialiser on every convex layer
  kBiasOnly,    // the bias-only ablation: U(-a, a) weights, mean-correcting bias (gain 2)
};

struct IcnnOptions {
  IcnnOptions(int64_t input, int64_t classes) : input_(input), classes_(classes) {}
  TORCH_ARG(int64_t, input);
  TORCH_ARG(int64_t, classes);
  TORCH_ARG(int64_t, num_hidden) = 3;
  // Non-empty: the convex layers are D -> hidden[0] -> ... -> hidden[k-1] -> classes after the
  // D x D first layer (mlp_search's networks), and num_hidden is ignored.
  TORCH_ARG(std::vector<int64_t>, hidden) = {};
  TORCH_ARG(Positivity, positivity) = Positivity::kLazyClip;
  TORCH_ARG(InitScheme, init) = InitScheme::kPrincipled;
  TORCH_ARG(double, corr) = 0.5;       // target correlation of the principled init
  TORCH_ARG(bool, rand_bias) = false;  // bias_noise = 0.5
  TORCH_ARG(bool, skip) = false;       // linear passthrough from the input to every convex layer
};

// The depth experiment's network (same as reference get_model; width = input).
class IcnnMlpImpl : public torch::nn::Cloneable<IcnnMlpImpl> {
 public:
  explicit IcnnMlpImpl(IcnnOptions options);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // [B, ...] -> [B, classes]

  IcnnOptions options;
  torch::nn::Linear first{nullptr};
  std::vector<ConvexLinear> convex;
  std::vector<torch::nn::Linear> skips;  // empty without `skip`
};
TORCH_MODULE(IcnnMlp);

// y = conv2d(x, positivity(weight)) + bias (no padding mode, stride, dilation: as the reference).
class ConvexConv2dImpl : public torch::nn::Cloneable<ConvexConv2dImpl> {
 public:
  ConvexConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
                   int64_t padding, Positivity positivity);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  int64_t in_channels, out_channels, kernel_size, stride, padding;
  Positivity positivity;
  torch::Tensor weight;  // [out, in, k, k], raw
  torch::Tensor bias;    // [out]
};
TORCH_MODULE(ConvexConv2d);

// Layer normalisation that keeps a network convex at evaluation (convex_modules.py's
// ConvexLayerNorm, which crashes as released): in training each sample is normalised over its
// features (biased variance) and scalar running statistics are updated with `momentum` from the
// batch means; in eval the running statistics are used, so the layer is an affine map with the
// non-negative scale positivity(weight): convexity-preserving. Output positivity(weight) x^ + bias.
class ConvexLayerNormImpl : public torch::nn::Cloneable<ConvexLayerNormImpl> {
 public:
  ConvexLayerNormImpl(int64_t features, Positivity positivity, double eps = 1e-5,
                      double momentum = 0.1);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);  // [B, features] -> [B, features]

  int64_t features;
  Positivity positivity;
  double eps, momentum;
  torch::Tensor weight;        // [features], raw; starts at the positivity's inverse of 1
  torch::Tensor bias;          // [features]
  torch::Tensor running_mean;  // scalar buffer
  torch::Tensor running_var;   // scalar buffer
};
TORCH_MODULE(ConvexLayerNorm);

// Difference of two convex networks (CDiNN): f1(x) - f2(x), both copies of the same initial
// network, so the output is exactly 0 at initialisation.
class BiConvexImpl : public torch::nn::Cloneable<BiConvexImpl> {
 public:
  explicit BiConvexImpl(IcnnMlp net);
  void reset() override;
  torch::Tensor forward(const torch::Tensor& x);

  IcnnMlp first{nullptr}, second{nullptr};
};
TORCH_MODULE(BiConvex);

// max over pairs of f((x + y) / 2) - (f(x) + f(y)) / 2 over every output: <= ~0 for a convex f,
// > 0 on some pair for a non-convex one. x, y [N, ...].
double MidpointConvexityGap(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                            const torch::Tensor& x, const torch::Tensor& y);

}  // namespace icnn

#endif  // ICNN_CONVEX_MODULES_H_
