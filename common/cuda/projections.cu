#include <cuda_runtime.h>

#include "common/cuda/block_reduce.cuh"
#include "common/cuda/projections.h"

namespace common::cuda {
namespace {

constexpr int kThreads = 256;

// theta with sum_i max(v_i - theta, 0) = radius over v_i = |get(i)|, i < count, given
// sum = sum_i v_i > radius > 0: Michelot (1986), theta <- (sum_{v > theta} v - r) / #{v > theta}
// until the set stops shrinking (at most `count` passes in exact arithmetic; capped so that float
// rounding cannot cycle). Every thread of the block returns the same theta.
template <typename Get>
__device__ float MichelotThreshold(Get get, int count, float sum, float radius, float* scratch) {
  float theta = (sum - radius) / count;
  int kept = count;
  for (int pass = 0; pass < 64; ++pass) {
    float s = 0, c = 0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
      const float v = fabsf(get(i));
      if (v > theta) {
        s += v;
        c += 1;
      }
    }
    s = BlockReduce(s, SumOp(), scratch);
    c = BlockReduce(c, SumOp(), scratch);
    const int now = static_cast<int>(c);
    if (now == kept || now == 0) return theta;
    kept = now;
    theta = (s - radius) / now;
  }
  return theta;
}

template <typename Get>
__device__ float AbsMax(Get get, int count, float* scratch) {
  float m = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) m = fmaxf(m, fabsf(get(i)));
  return BlockReduce(m, NanMaxOp(), scratch);
}

__global__ void RowsL1BallKernel(float* a, int cols, float radius) {
  __shared__ float scratch[32];
  float* row = a + static_cast<size_t>(blockIdx.x) * cols;
  auto get = [row](int i) { return row[i]; };
  float norm = 0;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) norm += fabsf(row[i]);
  norm = BlockReduce(norm, SumOp(), scratch);
  if (!(norm > radius)) return;  // inside (and NaN rows) are left as they are
  const float theta =
      radius > 0 ? MichelotThreshold(get, cols, norm, radius, scratch) : AbsMax(get, cols, scratch);
  for (int i = threadIdx.x; i < cols; i += blockDim.x) {
    const float v = row[i];
    row[i] = copysignf(fmaxf(fabsf(v) - theta, 0.0f), v);
  }
}

__device__ inline size_t GroupIndex(const GroupLayout& l, int group, int i) {
  const int o = group / l.inner, j = group % l.inner;
  return (static_cast<size_t>(o) * l.len + i) * l.inner + j;
}

// One warp a group: norms[g] = ||(x - anchor)_g||_2.
__global__ void GroupNormsKernel(const float* x, const float* anchor, GroupLayout layout,
                                 float* norms) {
  const int group = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (group >= layout.outer * layout.inner) return;  // whole warps leave together
  float s = 0;
  for (int i = lane; i < layout.len; i += 32) {
    const size_t k = GroupIndex(layout, group, i);
    const float d = x[k] - anchor[k];
    s += d * d;
  }
  s = WarpReduce(s, SumOp());
  if (lane == 0) norms[group] = sqrtf(s);
}

// One block: lambda of the group soft-thresholding into norms[groups] (0: nothing to do).
__global__ void GroupThresholdKernel(float* norms, int groups, float radius) {
  __shared__ float scratch[32];
  auto get = [norms](int i) { return norms[i]; };
  float total = 0;
  for (int i = threadIdx.x; i < groups; i += blockDim.x) total += norms[i];
  total = BlockReduce(total, SumOp(), scratch);
  float lambda = 0;
  if (total > radius) {
    lambda = radius > 0 ? MichelotThreshold(get, groups, total, radius, scratch)
                        : AbsMax(get, groups, scratch);
  }
  if (threadIdx.x == 0) norms[groups] = lambda;
}

__global__ void GroupScaleKernel(float* x, const float* anchor, GroupLayout layout,
                                 const float* norms) {
  const float lambda = norms[layout.outer * layout.inner];
  if (lambda == 0) return;
  const size_t k = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= static_cast<size_t>(layout.outer) * layout.len * layout.inner) return;
  const int j = k % layout.inner;
  const int o = k / (static_cast<size_t>(layout.len) * layout.inner);
  const float norm = norms[o * layout.inner + j];
  const float factor = norm > 0 ? fmaxf(0.0f, 1.0f - lambda / norm) : 0.0f;
  x[k] = anchor[k] + factor * (x[k] - anchor[k]);
}

}  // namespace

cudaError_t ProjectRowsL1Ball(float* a, int rows, int cols, float radius, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return cudaSuccess;
  RowsL1BallKernel<<<rows, cols <= 128 ? 128 : kThreads, 0, stream>>>(a, cols, radius);
  return cudaGetLastError();
}

cudaError_t GroupNormWorkspaceCreate(const GroupLayout& layout, float** workspace) {
  return cudaMalloc(reinterpret_cast<void**>(workspace), sizeof(float) * (layout.Groups() + 2));
}

cudaError_t ProjectGroupNormBall(float* x, const float* anchor, const GroupLayout& layout,
                                 float radius, float* workspace, cudaStream_t stream) {
  const int groups = layout.Groups();
  if (groups <= 0 || layout.len <= 0) return cudaSuccess;
  const long warps_threads = static_cast<long>(groups) * 32;
  GroupNormsKernel<<<(warps_threads + kThreads - 1) / kThreads, kThreads, 0, stream>>>(
      x, anchor, layout, workspace);
  GroupThresholdKernel<<<1, 1024, 0, stream>>>(workspace, groups, radius);
  GroupScaleKernel<<<(layout.Elements() + kThreads - 1) / kThreads, kThreads, 0, stream>>>(
      x, anchor, layout, workspace);
  return cudaGetLastError();
}

}  // namespace common::cuda
