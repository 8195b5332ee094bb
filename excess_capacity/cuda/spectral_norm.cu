#include <cuda_runtime.h>

#include "common/cuda/block_reduce.cuh"
#include "excess_capacity/cuda/spectral_norm.h"

namespace excess_capacity::cuda {
namespace {

using common::cuda::BlockReduce;
using common::cuda::NanMaxOp;
using common::cuda::SumOp;
using common::cuda::WarpReduce;

constexpr int kThreads = 256;
constexpr int kRowChunk = 64;  // rows per block in the transposed products

__device__ inline float InverseOrZero(float sum_squares) {
  return sum_squares > 0 ? rsqrtf(sum_squares) : 0.0f;
}

// scalars[0] = 1 / ||x|| (0 for x = 0), scalars[1] = ||x||. One block.
__global__ void NormKernel(const float* x, int count, float* scalars) {
  __shared__ float scratch[32];
  float s = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) s += x[i] * x[i];
  s = BlockReduce(s, SumOp(), scratch);
  if (threadIdx.x == 0) {
    scalars[0] = InverseOrZero(s);
    scalars[1] = sqrtf(s);
  }
}

// u = W v * scalars[0]: one warp a row.
__global__ void MatVecKernel(const float* w, int rows, int cols, const float* v,
                             const float* scalars, float* u) {
  const int lane = threadIdx.x & 31;
  const int warps = gridDim.x * (blockDim.x >> 5);
  const float scale = scalars[0];
  for (int r = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
    const float* row = w + size_t(r) * cols;
    float s = 0;
    for (int c = lane; c < cols; c += 32) s += row[c] * v[c];
    s = WarpReduce(s, SumOp());
    if (lane == 0) u[r] = s * scale;
  }
}

// v += W[rows of this block]^T u * scalars[0] (v zeroed before): a thread a column.
__global__ void MatTVecKernel(const float* w, int rows, int cols, const float* u,
                              const float* scalars, float* v) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  const int r0 = blockIdx.y * kRowChunk, r1 = min(rows, r0 + kRowChunk);
  float s = 0;
  for (int r = r0; r < r1; ++r) s += w[size_t(r) * cols + c] * u[r];
  atomicAdd(v + c, s * scalars[0]);
}

__global__ void FinishMatrixKernel(const float* v_raw, int cols, const float* scalars, float* v,
                                   float* sigma) {
  for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += gridDim.x * blockDim.x) {
    v[c] = v_raw[c] * scalars[0];
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) *sigma = scalars[1];
}

// spectrum[f, o, i] = sum_{a, b} w[o, i, a, b] exp(-2 pi i (fu a / H + fv b / W)),
// f = fu * (W / 2 + 1) + fv. The phase is reduced modulo 1 in integers before sincospif.
__global__ void DftKernel(const float* w, ConvShape s, int freqs, float2* spectrum) {
  const size_t idx = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= size_t(freqs) * s.cout * s.cin) return;
  const int i = idx % s.cin, o = (idx / s.cin) % s.cout, f = idx / (size_t(s.cin) * s.cout);
  const int half = s.width / 2 + 1, fu = f / half, fv = f % half;
  const float* kernel = w + (size_t(o) * s.cin + i) * s.k * s.k;
  float re = 0, im = 0;
  for (int a = 0; a < s.k; ++a) {
    for (int b = 0; b < s.k; ++b) {
      const float phase =
          float((fu * a) % s.height) / s.height + float((fv * b) % s.width) / s.width;
      float sn, cs;
      sincospif(-2.0f * phase, &sn, &cs);
      const float value = kernel[a * s.k + b];
      re += value * cs;
      im += value * sn;
    }
  }
  spectrum[idx] = make_float2(re, im);
}

// A fixed, frequency-dependent start with no special structure (a hash of the index).
__global__ void InitKernel(float2* x, int count) {
  const int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= count) return;
  unsigned h = idx * 2654435761u + 12345u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  x[idx] = make_float2(1.0f + (h & 0xffff) / 65536.0f, ((h >> 16) & 0xffff) / 65536.0f - 0.5f);
}

// scale[f] = 1 / ||x_f|| over len complex entries: one warp a frequency.
__global__ void FreqInverseNormKernel(const float2* x, int freqs, int len, float* scale) {
  const int f = (blockIdx.x * blockDim.x + threadIdx.x) >> 5, lane = threadIdx.x & 31;
  if (f >= freqs) return;
  float s = 0;
  for (int i = lane; i < len; i += 32) {
    const float2 v = x[size_t(f) * len + i];
    s += v.x * v.x + v.y * v.y;
  }
  s = WarpReduce(s, SumOp());
  if (lane == 0) scale[f] = InverseOrZero(s);
}

// y[f, o] = scale[f] * sum_i M[f, o, i] x[f, i]: one warp a (f, o).
__global__ void ApplyKernel(const float2* m, const float2* x, const float* scale, int freqs,
                            int cout, int cin, float2* y) {
  const size_t row = (size_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (row >= size_t(freqs) * cout) return;
  const int f = row / cout;
  const float2* mrow = m + row * cin;
  const float2* xf = x + size_t(f) * cin;
  float re = 0, im = 0;
  for (int i = lane; i < cin; i += 32) {
    const float2 a = mrow[i], b = xf[i];
    re += a.x * b.x - a.y * b.y;
    im += a.x * b.y + a.y * b.x;
  }
  re = WarpReduce(re, SumOp());
  im = WarpReduce(im, SumOp());
  if (lane == 0) y[row] = make_float2(re * scale[f], im * scale[f]);
}

// x[f, i] += scale[f] * sum_{o in chunk} conj(M[f, o, i]) y[f, o] (x zeroed before).
__global__ void ApplyAdjointKernel(const float2* m, const float2* y, const float* scale, int cout,
                                   int cin, float2* x) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x, f = blockIdx.z;
  if (i >= cin) return;
  const int o0 = blockIdx.y * kRowChunk, o1 = min(cout, o0 + kRowChunk);
  float re = 0, im = 0;
  for (int o = o0; o < o1; ++o) {
    const float2 a = m[(size_t(f) * cout + o) * cin + i], b = y[size_t(f) * cout + o];
    re += a.x * b.x + a.y * b.y;
    im += a.x * b.y - a.y * b.x;
  }
  atomicAdd(&x[size_t(f) * cin + i].x, re * scale[f]);
  atomicAdd(&x[size_t(f) * cin + i].y, im * scale[f]);
}

// sigma = max_f ||x_f||. One block.
__global__ void MaxFreqNormKernel(const float2* x, int freqs, int len, float* sigma) {
  __shared__ float scratch[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  float best = 0;
  for (int f = warp; f < freqs; f += warps) {
    float s = 0;
    for (int i = lane; i < len; i += 32) {
      const float2 v = x[size_t(f) * len + i];
      s += v.x * v.x + v.y * v.y;
    }
    best = fmaxf(best, sqrtf(WarpReduce(s, SumOp())));
  }
  best = BlockReduce(best, NanMaxOp(), scratch);
  if (threadIdx.x == 0) *sigma = best;
}

int Blocks(size_t work, int per_block) {
  return static_cast<int>((work + per_block - 1) / per_block);
}

template <typename T>
cudaError_t Alloc(T** p, size_t count) {
  return cudaMalloc(reinterpret_cast<void**>(p), sizeof(T) * (count ? count : 1));
}

}  // namespace

cudaError_t SpectralWorkspaceCreate(int matrix_rows, int matrix_cols, const ConvShape& conv,
                                    SpectralWorkspace* ws) {
  *ws = SpectralWorkspace();
  ws->max_rows = matrix_rows;
  ws->max_cols = matrix_cols;
  ws->max_conv = conv;
  const size_t freqs = conv.Frequencies();
  cudaError_t err = Alloc(&ws->sigma, 1);
  if (err == cudaSuccess) err = Alloc(&ws->scalars, 2);
  if (err == cudaSuccess) err = Alloc(&ws->u, matrix_rows);
  if (err == cudaSuccess) err = Alloc(&ws->v_raw, matrix_cols);
  if (err == cudaSuccess) err = Alloc(&ws->spectrum, 2 * freqs * conv.cout * conv.cin);
  if (err == cudaSuccess) err = Alloc(&ws->x, 2 * freqs * conv.cin);
  if (err == cudaSuccess) err = Alloc(&ws->y, 2 * freqs * conv.cout);
  if (err == cudaSuccess) err = Alloc(&ws->freq_scale, freqs);
  if (err != cudaSuccess) SpectralWorkspaceDestroy(ws);
  return err;
}

void SpectralWorkspaceDestroy(SpectralWorkspace* ws) {
  for (float* p :
       {ws->sigma, ws->scalars, ws->u, ws->v_raw, ws->spectrum, ws->x, ws->y, ws->freq_scale}) {
    cudaFree(p);
  }
  *ws = SpectralWorkspace();
}

cudaError_t MatrixSpectralNorm(const float* w, int rows, int cols, int iters, float* v,
                               const SpectralWorkspace& ws, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0 || rows > ws.max_rows || cols > ws.max_cols || iters < 1) {
    return cudaErrorInvalidValue;
  }
  const float* current = v;
  const int matvec_blocks = Blocks(size_t(rows) * 32, kThreads);
  const dim3 transposed(Blocks(cols, kThreads), Blocks(rows, kRowChunk));
  for (int it = 0; it < iters; ++it) {
    NormKernel<<<1, 1024, 0, stream>>>(current, cols, ws.scalars);
    MatVecKernel<<<matvec_blocks, kThreads, 0, stream>>>(w, rows, cols, current, ws.scalars, ws.u);
    NormKernel<<<1, 1024, 0, stream>>>(ws.u, rows, ws.scalars);
    cudaError_t err = cudaMemsetAsync(ws.v_raw, 0, sizeof(float) * cols, stream);
    if (err != cudaSuccess) return err;
    MatTVecKernel<<<transposed, kThreads, 0, stream>>>(w, rows, cols, ws.u, ws.scalars, ws.v_raw);
    current = ws.v_raw;
  }
  NormKernel<<<1, 1024, 0, stream>>>(ws.v_raw, cols, ws.scalars);
  FinishMatrixKernel<<<Blocks(cols, kThreads), kThreads, 0, stream>>>(ws.v_raw, cols, ws.scalars, v,
                                                                      ws.sigma);
  return cudaGetLastError();
}

cudaError_t CyclicConvSpectralNorm(const float* kernel, const ConvShape& s, int iters,
                                   const SpectralWorkspace& ws, cudaStream_t stream) {
  const ConvShape& cap = ws.max_conv;
  const size_t freqs = s.Frequencies(), cap_freqs = cap.Frequencies();
  if (s.cout <= 0 || s.cin <= 0 || s.k <= 0 || s.k > s.height || s.k > s.width || iters < 1 ||
      freqs * s.cout * s.cin > cap_freqs * cap.cout * cap.cin ||
      freqs * s.cin > cap_freqs * cap.cin || freqs * s.cout > cap_freqs * cap.cout) {
    return cudaErrorInvalidValue;
  }
  float2* m = reinterpret_cast<float2*>(ws.spectrum);
  float2* x = reinterpret_cast<float2*>(ws.x);
  float2* y = reinterpret_cast<float2*>(ws.y);
  const int f = static_cast<int>(freqs);
  DftKernel<<<Blocks(freqs * s.cout * s.cin, kThreads), kThreads, 0, stream>>>(kernel, s, f, m);
  InitKernel<<<Blocks(freqs * s.cin, kThreads), kThreads, 0, stream>>>(x, f * s.cin);
  const dim3 adjoint(Blocks(s.cin, 128), Blocks(s.cout, kRowChunk), f);
  for (int it = 0; it < iters; ++it) {
    FreqInverseNormKernel<<<Blocks(freqs * 32, kThreads), kThreads, 0, stream>>>(x, f, s.cin,
                                                                                 ws.freq_scale);
    ApplyKernel<<<Blocks(freqs * s.cout * 32, kThreads), kThreads, 0, stream>>>(
        m, x, ws.freq_scale, f, s.cout, s.cin, y);
    FreqInverseNormKernel<<<Blocks(freqs * 32, kThreads), kThreads, 0, stream>>>(y, f, s.cout,
                                                                                 ws.freq_scale);
    cudaError_t err = cudaMemsetAsync(x, 0, sizeof(float2) * freqs * s.cin, stream);
    if (err != cudaSuccess) return err;
    ApplyAdjointKernel<<<adjoint, 128, 0, stream>>>(m, y, ws.freq_scale, s.cout, s.cin, x);
  }
  MaxFreqNormKernel<<<1, 1024, 0, stream>>>(x, f, s.cin, ws.sigma);
  return cudaGetLastError();
}

}  // namespace excess_capacity::cuda
