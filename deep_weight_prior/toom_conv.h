// Exact 3x3 convolutions of tiny images by Toom-Cook (Winograd) transforms, for frozen weights:
// the kernel VAEs inside the DWP's KL bound run thousands of 3x3- and 5x5-pixel images through
// 3x3 convolutions with weights that never change, and only the input needs a gradient.
//
// In one dimension a full convolution of a length-L input with a length-3 kernel is a product of
// polynomials of degree L-1 and 2; evaluated at P = L + 2 points, it is P multiplications:
//   y = A [(Bx x) o (Bg g)]            A = the inverse Vandermonde matrix of the points (P x P),
// and its transpose is the valid correlation (Lavin & Gray 2016, "Fast Algorithms for
// Convolutional Neural Networks"):
//   y = Bx^T [(Bg g) o (A^T x)].
// In two dimensions each of the P^2 transformed pixels is one [batch, in] x [in, out] matrix
// product, instead of 9 taps on every output pixel: the 5x5 VAE's 3x3 -> 5x5 transposed
// convolution and 5x5 -> 3x3 convolution take 25 products where direct evaluation takes 81 (3.2x
// fewer multiply-adds), the 5x5 -> 5x5 padded convolution 49 instead of 169. Results equal the
// direct convolution up to float rounding: the points are 0, +-1, 2 and infinity, and the tests
// bound the error by 2e-5 of the largest output. Only P = 5 is used: a 7-point transform (points
// -2 and 1/2 added, for the 7x7 VAE's 5 -> 7 and 7 -> 5 layers) lost two more digits on the
// released 7x7 VAE, so those layers run as direct convolutions.
//
//   y = ToomConvTranspose3x3(x, conv_t->weight, conv_t->bias);   // == conv_transpose2d (stride 1)
//   y = ToomConv3x3(x, conv->weight, conv->bias, /*padding=*/1);  // == conv2d (stride 1)
#ifndef DEEP_WEIGHT_PRIOR_TOOM_CONV_H_
#define DEEP_WEIGHT_PRIOR_TOOM_CONV_H_

#include <torch/types.h>

namespace deep_weight_prior {

// True when ToomConvTranspose3x3 / ToomConv3x3 apply: float CPU tensors, square 3x3 weights that do
// not require a gradient, and an input side for which the transform is exact and well conditioned
// (ConvTranspose: side 3; Conv: side 5 with padding 0, side 3 with padding 1).
bool ToomConvTransposeApplies(const torch::Tensor& x, const torch::Tensor& weight);
bool ToomConvApplies(const torch::Tensor& x, const torch::Tensor& weight, int64_t padding);

// x [B, C, n, n], weight [C, O, 3, 3] (ConvTranspose2d's layout), bias [O] or undefined ->
// [B, O, n + 2, n + 2] in channels-last memory; differentiable in x only.
torch::Tensor ToomConvTranspose3x3(const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias);

// x [B, C, n, n], weight [O, C, 3, 3], bias [O] or undefined, padding 0 or 1 ->
// [B, O, n + 2 padding - 2, ...] in channels-last memory; differentiable in x only.
torch::Tensor ToomConv3x3(const torch::Tensor& x, const torch::Tensor& weight,
                          const torch::Tensor& bias, int64_t padding);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_TOOM_CONV_H_
