// Norm-ball projections on the GPU: the CUDA counterparts of common/linalg/projections.h, on raw
// device pointers (no LibTorch). Host references without CUDA: projections_host.h.
//
//   ProjectRowsL1Ball(d_a, rows, cols, 0.95f, stream);                   // implicit_dl's ||A||_inf
//   ProjectGroupNormBall(d_w, d_w0, {cout, cin, k * k}, radius, ws, stream);  // excess_capacity's
//   dist
//
// Functions enqueue work on `stream` and return the launch error (cudaSuccess when queued).
#ifndef COMMON_CUDA_PROJECTIONS_H_
#define COMMON_CUDA_PROJECTIONS_H_

#include <cuda_runtime_api.h>

#include "common/cuda/projections_host.h"  // GroupLayout

namespace common::cuda {

// Every row of a [rows, cols] (row-major, in place) onto {x : ||x||_1 <= radius}: one block a
// row, Michelot's exact finite algorithm (a few block reductions). Rows inside are not written.
// radius 0 zeroes rows; radius inf is the identity.
cudaError_t ProjectRowsL1Ball(float* a, int rows, int cols, float radius, cudaStream_t stream);

// Scratch for ProjectGroupNormBall: outer * inner + 2 floats of device memory.
cudaError_t GroupNormWorkspaceCreate(const GroupLayout& layout, float** workspace);

// x onto {sum_g ||(x - anchor)_g||_2 <= radius} in place (group soft-thresholding with the exact
// threshold from Michelot's algorithm on the group norms). Points inside are not written; zero
// groups stay zero.
cudaError_t ProjectGroupNormBall(float* x, const float* anchor, const GroupLayout& layout,
                                 float radius, float* workspace, cudaStream_t stream);

}  // namespace common::cuda

#endif  // COMMON_CUDA_PROJECTIONS_H_
