// Stride-1, unpadded transposed convolution as one matrix product and an overlap-add, with its
// backward: the kernel VAEs' decoders run it on thousands of tiny (1x1, 3x3, 5x5) inputs, where
// LibTorch 1.13's CPU conv_transpose2d takes a slow im2col path (about 3x this on the 5x5 VAE).
//
//   y = ConvTranspose2dGemm(x, conv_t->weight, conv_t->bias);  // == conv_transpose2d(x, w, b)
#ifndef DEEP_WEIGHT_PRIOR_CONV_TRANSPOSE_GEMM_H_
#define DEEP_WEIGHT_PRIOR_CONV_TRANSPOSE_GEMM_H_

#include <torch/types.h>

namespace deep_weight_prior {

// x [B, C, H, W], weight [C, O, k, k] (ConvTranspose2d's layout), bias [O] or undefined ->
// [B, O, H + k - 1, W + k - 1] (in channels-last memory), differentiable in all three. Float CPU
// tensors take the GEMM route; anything else calls torch's conv_transpose2d.
torch::Tensor ConvTranspose2dGemm(const torch::Tensor& x, const torch::Tensor& weight,
                                  const torch::Tensor& bias);

// A 1x1 convolution (stride 1, no padding) as one matrix product over the pixels, in
// channels-last memory (no copy when x is channels-last already, e.g. ConvTranspose2dGemm's
// output).
torch::Tensor Conv1x1Gemm(const torch::Tensor& x, const torch::Tensor& weight,
                          const torch::Tensor& bias);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_CONV_TRANSPOSE_GEMM_H_
