#include "icnn/convex_modules.h"

#include <torch/torch.h>

#include <cmath>

#include "icnn/convex_init.h"

namespace icnn {

ConvexLinearImpl::ConvexLinearImpl(int64_t in_features, int64_t out_features, Positivity positivity)
    : in_features(in_features), out_features(out_features), positivity(positivity) {
  reset();
}

void ConvexLinearImpl::reset() {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  bias = register_parameter("bias", torch::zeros({out_features}));
  TraditionalInit(weight, bias, 2.0);
}

torch::Tensor ConvexLinearImpl::EffectiveWeight() { return ApplyPositivity(positivity, weight); }

torch::Tensor ConvexLinearImpl::forward(const torch::Tensor& x) {
  return torch::addmm(bias, x, EffectiveWeight().t());
}

IcnnMlpImpl::IcnnMlpImpl(IcnnOptions options) : options(std::move(options)) { reset(); }

void IcnnMlpImpl::reset() {
  const int64_t d = options.input();
  TORCH_CHECK(options.num_hidden() >= 1, "--num_hidden must be >= 1, got ", options.num_hidden());
  first = register_module("first", torch::nn::Linear(d, d));
  TraditionalInit(first->weight, first->bias, 1.0);  // same as reference: LeCun, any sign
  const bool convex_net = options.positivity() != Positivity::kNone;
  const ConvexInitialiser init(1.0, options.corr(), options.rand_bias() ? 0.5 : 0.0);
  convex.clear();
  skips.clear();
  std::vector<int64_t> outs = options.hidden();  // widths of the convex layers
  if (outs.empty()) outs.assign(options.num_hidden() - 1, d);
  outs.push_back(options.classes());
  int64_t in = d;
  for (size_t i = 0; i < outs.size(); ++i) {
    const int64_t out = outs[i];
    TORCH_CHECK(out > 0, "hidden widths must be positive, got ", out);
    ConvexLinear layer(in, out, options.positivity());
    in = out;
    if (convex_net && options.init() == InitScheme::kPrincipled) {
      const absl::Status s = init.Initialise(layer->weight, layer->bias, options.positivity());
      TORCH_CHECK(s.ok(), std::string(s.message()));
    } else if (convex_net && options.init() == InitScheme::kBiasOnly) {
      BiasCorrectionInit(layer->weight, layer->bias, options.positivity(), /*gain=*/2.0);
    }
    convex.push_back(register_module("convex" + std::to_string(i), layer));
    if (options.skip()) {
      torch::nn::Linear skip(torch::nn::LinearOptions(d, out).bias(false));
      skips.push_back(register_module("skip" + std::to_string(i), skip));
    }
  }
}

torch::Tensor IcnnMlpImpl::forward(const torch::Tensor& x) {
  const torch::Tensor input = x.flatten(1);
  torch::Tensor h = first->forward(input);
  for (size_t i = 0; i < convex.size(); ++i) {
    torch::Tensor next = convex[i]->forward(torch::relu(h));
    if (!skips.empty()) next = next + skips[i]->forward(input);
    h = next;
  }
  return h;
}

ConvexLayerNormImpl::ConvexLayerNormImpl(int64_t features, Positivity positivity, double eps,
                                         double momentum)
    : features(features), positivity(positivity), eps(eps), momentum(momentum) {
  reset();
}

void ConvexLayerNormImpl::reset() {
  TORCH_CHECK(features > 0, "ConvexLayerNorm needs features > 0, got ", features);
  weight = register_parameter("weight", InversePositivity(positivity, torch::ones({features})));
  bias = register_parameter("bias", torch::zeros({features}));
  running_mean = register_buffer("running_mean", torch::zeros({}));
  running_var = register_buffer("running_var", torch::ones({}));
}

torch::Tensor ConvexLayerNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor normed;
  if (is_training()) {
    const torch::Tensor mean = x.mean(1, /*keepdim=*/true),
                        var = x.var(1, /*unbiased=*/false, /*keepdim=*/true);
    normed = (x - mean) / (var + eps).sqrt();
    torch::NoGradGuard no_grad;
    running_mean.mul_(1 - momentum).add_(momentum * mean.mean());
    running_var.mul_(1 - momentum).add_(momentum * var.mean());
  } else {
    normed = (x - running_mean) / (running_var + eps).sqrt();
  }
  return ApplyPositivity(positivity, weight) * normed + bias;
}

ConvexConv2dImpl::ConvexConv2dImpl(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                   int64_t stride, int64_t padding, Positivity positivity)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel_size),
      stride(stride),
      padding(padding),
      positivity(positivity) {
  reset();
}

void ConvexConv2dImpl::reset() {
  weight = register_parameter("weight",
                              torch::empty({out_channels, in_channels, kernel_size, kernel_size}));
  bias = register_parameter("bias", torch::zeros({out_channels}));
  TraditionalInit(weight, bias, 2.0);
}

torch::Tensor ConvexConv2dImpl::forward(const torch::Tensor& x) {
  return torch::conv2d(x, ApplyPositivity(positivity, weight), bias, stride, padding);
}

BiConvexImpl::BiConvexImpl(IcnnMlp net) : first(std::move(net)) { reset(); }

void BiConvexImpl::reset() {
  first = register_module("first", first);
  second = register_module("second", std::dynamic_pointer_cast<IcnnMlpImpl>(first->clone()));
}

torch::Tensor BiConvexImpl::forward(const torch::Tensor& x) {
  return first->forward(x) - second->forward(x);
}

double MidpointConvexityGap(const std::function<torch::Tensor(const torch::Tensor&)>& f,
                            const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  const torch::Tensor gap = f((x + y) / 2) - (f(x) + f(y)) / 2;
  return gap.max().item<double>();
}

}  // namespace icnn
