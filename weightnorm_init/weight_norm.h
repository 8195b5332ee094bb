// Weight normalisation (Salimans & Kingma 2016) as used by Arpit, Campos & Bengio (NeurIPS 2019):
// a Linear or Conv2d layer whose effective weight is, per output unit i,
//
//   w_i = g_i * v_i / ||v_i||_2      (norm over every dimension but the first; no epsilon)
//
// recomputed at every forward so that gradients flow through the normalisation, exactly as
// PyTorch's torch.nn.utils.weight_norm(layer, dim=0). The same module without weight norm is a
// plain layer (parameter `weight`), so the models can switch WN on and off with one flag.
#ifndef WEIGHTNORM_INIT_WEIGHT_NORM_H_
#define WEIGHTNORM_INIT_WEIGHT_NORM_H_

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <string>

namespace weightnorm_init {

struct WnLayerOptions {
  // A Linear layer (kernel_size 0) or a Conv2d layer (kernel_size >= 1).
  WnLayerOptions(int64_t in, int64_t out, int64_t kernel_size = 0)
      : in_(in), out_(out), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(int64_t, kernel_size);  // 0: Linear
  TORCH_ARG(int64_t, stride) = 1;
  TORCH_ARG(int64_t, padding) = 0;
  TORCH_ARG(bool, weight_norm) = true;
};

// Parameters use PyTorch's names: `weight_v`, `weight_g` ([out, 1] or [out, 1, 1, 1]) and `bias`
// with weight norm; `weight` and `bias` without. A freshly built layer has PyTorch's default
// init (kaiming_uniform with a = sqrt(5)) and g = ||v||, so the function equals the plain layer's.
class WnLayerImpl : public torch::nn::Cloneable<WnLayerImpl> {
 public:
  explicit WnLayerImpl(WnLayerOptions options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  // [B, in] -> [B, out] (Linear) or [B, in, H, W] -> [B, out, H', W'] (Conv2d).
  torch::Tensor forward(const torch::Tensor& x);

  // The weight the layer applies: g v / ||v|| with weight norm, else `weight`.
  torch::Tensor EffectiveWeight() const;
  // The direction parameter: weight_v with weight norm, else weight.
  torch::Tensor& direction() { return options.weight_norm() ? weight_v : weight; }
  bool is_conv() const { return options.kernel_size() > 0; }
  // PyTorch's _calculate_fan_in_and_fan_out: in*k*k and out*k*k.
  int64_t fan_in() const;
  int64_t fan_out() const;

  WnLayerOptions options;
  torch::Tensor weight_v, weight_g;  // with weight norm
  torch::Tensor weight;              // without
  torch::Tensor bias;                // [out]
};
TORCH_MODULE(WnLayer);

// ||v_i|| per output unit, shaped like weight_g ([out, 1, ...]).
torch::Tensor RowNorms(const torch::Tensor& v);

// g v / ||v|| per output unit: v [out, ...], g [out, 1, ...].
torch::Tensor WeightNormWeight(const torch::Tensor& v, const torch::Tensor& g);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_WEIGHT_NORM_H_
