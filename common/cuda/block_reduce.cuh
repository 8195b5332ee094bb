// Warp and block reductions shared by the CUDA kernels of this repository (device code only).
// Blocks must have a multiple of 32 threads; every thread of the block gets the result.
#ifndef COMMON_CUDA_BLOCK_REDUCE_CUH_
#define COMMON_CUDA_BLOCK_REDUCE_CUH_

#include <cuda_runtime.h>

namespace common::cuda {

struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

// max that keeps NaN (fmaxf drops it): a NaN error must never look converged.
struct NanMaxOp {
  __device__ float operator()(float a, float b) const { return (a > b || a != a) ? a : b; }
};

template <typename Op>
__device__ inline float WarpReduce(float v, Op op) {
  for (int offset = 16; offset > 0; offset >>= 1)
    v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// `scratch` holds 32 floats of shared memory; the block must call this uniformly.
template <typename Op>
__device__ inline float BlockReduce(float v, Op op, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
  v = WarpReduce(v, op);
  __syncthreads();  // scratch may still be read by a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = scratch[0];
  for (int w = 1; w < warps; ++w) v = op(v, scratch[w]);
  return v;
}

// Atomic max of a non-negative float (or +NaN, which then wins) by its bit pattern.
__device__ inline void AtomicMaxNonNegative(unsigned int* address, float value) {
  atomicMax(address, __float_as_uint(value));
}

}  // namespace common::cuda

#endif  // COMMON_CUDA_BLOCK_REDUCE_CUH_
