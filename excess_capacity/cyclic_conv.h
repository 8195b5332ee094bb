// Cyclic (circularly padded) convolutions and their spectra, the operator view that Graf et al.
// (NeurIPS 2022) constrain: a k x k kernel on an H x W torus is a block-circulant matrix whose
// spectral norm is the largest singular value over the per-frequency cout x cin matrices of its
// 2-D DFT (Sedghi, Gupta & Long 2019).
//
// Padding is k/2 before and k/2 - (k even) after on each spatial axis (same as reference), then a
// valid cross-correlation, so odd kernels at stride 1 keep the spatial size.
#ifndef EXCESS_CAPACITY_CYCLIC_CONV_H_
#define EXCESS_CAPACITY_CYCLIC_CONV_H_

#include <torch/types.h>

namespace excess_capacity {

// x [B, cin, H, W], w [cout, cin, k, k] -> [B, cout, ceil(H/s), ceil(W/s)].
torch::Tensor CyclicConv2d(const torch::Tensor& x, const torch::Tensor& w, int64_t stride = 1);

// The adjoint of CyclicConv2d at stride 1: y [B, cout, H, W] -> [B, cin, H, W], exact for odd and
// even k (the reference's flipped-kernel adjoint is off by a cyclic shift for even k; norms agree).
torch::Tensor CyclicConv2dAdjoint(const torch::Tensor& y, const torch::Tensor& w);

// The kernel zero-padded to [cout, cin, H, W], top-left (same as reference's embed).
torch::Tensor EmbedKernel(const torch::Tensor& w, int64_t height, int64_t width);

// Exact spectral norm of the stride-1 cyclic convolution on an H x W torus: max over frequencies
// of the largest singular value of the DFT of the embedded kernel.
double CyclicConvSpectralNorm(const torch::Tensor& w, int64_t height, int64_t width);

// Projection (Frobenius) of an embedded kernel [cout, cin, H, W] onto {spectral norm <= bound}:
// clip every per-frequency singular value at `bound` (Sedghi et al. 2019). Uses the real FFT and
// conjugate symmetry, so only half the frequencies are decomposed, and batched Hermitian eigh of
// the smaller Gram matrix instead of SVD.
torch::Tensor ClipCyclicConvSpectrum(const torch::Tensor& embedded, double bound);

// Projection of a matrix [out, in] onto {spectral norm <= bound}: W V diag(min(1, bound/s)) V^T.
torch::Tensor ClipMatrixSpectrum(const torch::Tensor& w, double bound);

}  // namespace excess_capacity

#endif  // EXCESS_CAPACITY_CYCLIC_CONV_H_
