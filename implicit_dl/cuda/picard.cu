#include <cooperative_groups.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "common/cuda/block_reduce.cuh"
#include "implicit_dl/cuda/picard.h"

namespace implicit_dl::cuda {
namespace {

namespace cg = cooperative_groups;
using common::cuda::AtomicMaxNonNegative;
using common::cuda::BlockReduce;
using common::cuda::NanMaxOp;

// Output tile BM x BN per block, TM x TN per thread, KC-deep slices of A and X in shared memory.
template <int BM_, int BN_, int TM_, int TN_, int KC_>
struct TileConfig {
  static constexpr int BM = BM_, BN = BN_, TM = TM_, TN = TN_, KC = KC_;
  static constexpr int kThreads = (BM / TM) * (BN / TN);
};
using SmallTiles = TileConfig<16, 32, 1, 2, 32>;  // n = 300, m = 100: 76 blocks
using LargeTiles = TileConfig<64, 64, 4, 4, 16>;  // n, m >= 1024

__device__ inline float LoadA(const float* a, size_t i) { return __ldg(a + i); }
__device__ inline float LoadA(const __nv_bfloat16* a, size_t i) { return __bfloat162float(a[i]); }

__device__ inline float ApplyPhi(Phi phi, float slope, float z) {
  switch (phi) {
    case Phi::kReLU:
      return z > 0 ? z : 0.0f;
    case Phi::kTanh:
      return tanhf(z);
    case Phi::kLeakyReLU:
      return z > 0 ? z : slope * z;
    case Phi::kSiLU:
      return z / (1.0f + expf(-z));
  }
  return z;
}

struct Args {
  const void* a;
  const float* aux;  // Z (forward) or D (adjoint)
  const float* g;    // G (adjoint)
  float* x;          // X0 in, solution out
  float* scratch;
  int n, m, mitr;
  float tol;
  Phi phi;
  float slope;
  unsigned int* errors;
  PicardStats* stats;
};

// acc = (A or A^T)[r0 + ty*TM + i, :] . X[:, c0 + tx*TN + j] for the block's tile. X is read
// with __ldcg (L2, not the non-coherent L1): other blocks wrote it in the previous iteration.
template <class C, bool kTrans, typename TA>
__device__ void TileProduct(const TA* A, const float* X, int n, int m, int r0, int c0,
                            float (&acc)[C::TM][C::TN], float* sA, float* sX) {
  const int tid = threadIdx.x, ty = tid / (C::BN / C::TN), tx = tid % (C::BN / C::TN);
#pragma unroll
  for (int i = 0; i < C::TM; ++i)
#pragma unroll
    for (int j = 0; j < C::TN; ++j) acc[i][j] = 0;
  for (int k0 = 0; k0 < n; k0 += C::KC) {
    for (int e = tid; e < C::BM * C::KC; e += C::kThreads) {
      const int rr = kTrans ? e % C::BM : e / C::KC, kk = kTrans ? e / C::BM : e % C::KC;
      const int r = r0 + rr, k = k0 + kk;
      float v = 0;
      if (r < n && k < n) v = LoadA(A, kTrans ? size_t(k) * n + r : size_t(r) * n + k);
      sA[kk * (C::BM + 1) + rr] = v;
    }
    for (int e = tid; e < C::KC * C::BN; e += C::kThreads) {
      const int kk = e / C::BN, cc = e % C::BN, k = k0 + kk, c = c0 + cc;
      sX[e] = (k < n && c < m) ? __ldcg(X + size_t(k) * m + c) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < C::KC; ++kk) {
      float a[C::TM], b[C::TN];
#pragma unroll
      for (int i = 0; i < C::TM; ++i) a[i] = sA[kk * (C::BM + 1) + ty * C::TM + i];
#pragma unroll
      for (int j = 0; j < C::TN; ++j) b[j] = sX[kk * C::BN + tx * C::TN + j];
#pragma unroll
      for (int i = 0; i < C::TM; ++i)
#pragma unroll
        for (int j = 0; j < C::TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
}

// Every iteration of one solve. Iteration `it` reads buffer it % 2 (0: args.x, 1: scratch) and
// writes the other; the convergence test after the grid barrier is the same in every block.
template <class C, bool kAdjoint, typename TA>
__global__ void __launch_bounds__(C::kThreads) PicardKernel(Args args) {
  cg::grid_group grid = cg::this_grid();
  __shared__ float sA[C::KC * (C::BM + 1)], sX[C::KC * C::BN], red[32];
  const TA* A = static_cast<const TA*>(args.a);
  const int n = args.n, m = args.m;
  const int tiles_c = (m + C::BN - 1) / C::BN, tiles = ((n + C::BM - 1) / C::BM) * tiles_c;
  const int ty = threadIdx.x / (C::BN / C::TN), tx = threadIdx.x % (C::BN / C::TN);
  int it = 0;
  bool converged = false;
  float error = 0;
  for (; it < args.mitr; ++it) {
    const float* x = (it & 1) ? args.scratch : args.x;
    float* out = (it & 1) ? args.x : args.scratch;
    float local = 0;
    for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
      const int r0 = (tile / tiles_c) * C::BM, c0 = (tile % tiles_c) * C::BN;
      float acc[C::TM][C::TN];
      TileProduct<C, kAdjoint>(A, x, n, m, r0, c0, acc, sA, sX);
#pragma unroll
      for (int i = 0; i < C::TM; ++i) {
#pragma unroll
        for (int j = 0; j < C::TN; ++j) {
          const int r = r0 + ty * C::TM + i, c = c0 + tx * C::TN + j;
          if (r >= n || c >= m) continue;
          const size_t k = size_t(r) * m + c;
          float v;
          if (kAdjoint) {
            const float d = __ldg(args.aux + k);
            v = acc[i][j] * d + d * __ldg(args.g + k);
          } else {
            v = ApplyPhi(args.phi, args.slope, acc[i][j] + __ldg(args.aux + k));
          }
          out[k] = v;
          local = NanMaxOp()(local, fabsf(v - __ldcg(x + k)));
        }
      }
    }
    local = BlockReduce(local, NanMaxOp(), red);
    if (threadIdx.x == 0) AtomicMaxNonNegative(args.errors + it, local);
    grid.sync();
    error = __uint_as_float(__ldcg(args.errors + it));
    if (error < args.tol) {
      converged = true;
      break;
    }
  }
  // The solution: the iterate read by the converged iteration, else the last update.
  const int parity = converged ? (it & 1) : (args.mitr & 1);
  if (parity == 1) {
    for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
      const int r0 = (tile / tiles_c) * C::BM, c0 = (tile % tiles_c) * C::BN;
      for (int e = threadIdx.x; e < C::BM * C::BN; e += C::kThreads) {
        const int r = r0 + e / C::BN, c = c0 + e % C::BN;
        if (r < n && c < m) args.x[size_t(r) * m + c] = __ldcg(args.scratch + size_t(r) * m + c);
      }
    }
  }
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    args.stats->iterations = converged ? it + 1 : args.mitr;
    args.stats->error = error;
    args.stats->converged = converged;
  }
}

__global__ void ToBf16Kernel(const float* in, __nv_bfloat16* out, size_t count) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) out[i] = __float2bfloat16(in[i]);
}

template <class C, bool kAdjoint, typename TA>
cudaError_t LaunchWith(Args args, int sm_count, cudaStream_t stream) {
  const void* kernel = reinterpret_cast<const void*>(&PicardKernel<C, kAdjoint, TA>);
  int per_sm = 0;
  cudaError_t err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, C::kThreads, 0);
  if (err != cudaSuccess) return err;
  const int tiles = ((args.n + C::BM - 1) / C::BM) * ((args.m + C::BN - 1) / C::BN);
  const int blocks = tiles < per_sm * sm_count ? tiles : per_sm * sm_count;
  void* params[] = {&args};
  return cudaLaunchCooperativeKernel(kernel, dim3(blocks), dim3(C::kThreads), params, 0, stream);
}

template <bool kAdjoint>
cudaError_t Solve(const float* A, Args args, const PicardProblem& p, const PicardWorkspace& ws,
                  cudaStream_t stream) {
  if (p.n <= 0 || p.m <= 0 || p.n > ws.max_n || p.m > ws.max_m || p.mitr < 0 ||
      p.mitr > ws.max_mitr || (p.precision == Precision::kBf16A && ws.a_bf16 == nullptr)) {
    return cudaErrorInvalidValue;
  }
  args.n = p.n;
  args.m = p.m;
  args.mitr = p.mitr;
  args.tol = p.tol;
  args.phi = p.phi;
  args.slope = p.negative_slope;
  args.scratch = ws.scratch;
  args.errors = ws.errors;
  args.stats = ws.stats;
  args.a = A;
  cudaError_t err = cudaMemsetAsync(ws.errors, 0, sizeof(unsigned int) * (p.mitr + 1), stream);
  if (err != cudaSuccess) return err;
  const bool bf16 = p.precision == Precision::kBf16A;
  if (bf16) {
    const size_t count = size_t(p.n) * p.n;
    ToBf16Kernel<<<(count + 255) / 256, 256, 0, stream>>>(A, static_cast<__nv_bfloat16*>(ws.a_bf16),
                                                          count);
    args.a = ws.a_bf16;
  }
  const bool large = p.tiles == Tiles::kAuto ? ((p.n + 63) / 64) * ((p.m + 63) / 64) >= ws.sm_count
                                             : p.tiles == Tiles::kLarge;
  if (large) {
    return bf16 ? LaunchWith<LargeTiles, kAdjoint, __nv_bfloat16>(args, ws.sm_count, stream)
                : LaunchWith<LargeTiles, kAdjoint, float>(args, ws.sm_count, stream);
  }
  return bf16 ? LaunchWith<SmallTiles, kAdjoint, __nv_bfloat16>(args, ws.sm_count, stream)
              : LaunchWith<SmallTiles, kAdjoint, float>(args, ws.sm_count, stream);
}

}  // namespace

cudaError_t PicardWorkspaceCreate(int max_n, int max_m, int max_mitr, bool bf16,
                                  PicardWorkspace* ws) {
  *ws = PicardWorkspace();
  ws->max_n = max_n;
  ws->max_m = max_m;
  ws->max_mitr = max_mitr;
  int device = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err == cudaSuccess) {
    err = cudaDeviceGetAttribute(&ws->sm_count, cudaDevAttrMultiProcessorCount, device);
  }
  if (err == cudaSuccess) {
    err = cudaMalloc(reinterpret_cast<void**>(&ws->scratch), sizeof(float) * max_n * max_m);
  }
  if (err == cudaSuccess) {
    err = cudaMalloc(reinterpret_cast<void**>(&ws->errors), sizeof(unsigned int) * (max_mitr + 1));
  }
  if (err == cudaSuccess)
    err = cudaMalloc(reinterpret_cast<void**>(&ws->stats), sizeof(PicardStats));
  if (err == cudaSuccess && bf16) {
    err = cudaMalloc(&ws->a_bf16, sizeof(__nv_bfloat16) * max_n * max_n);
  }
  if (err != cudaSuccess) PicardWorkspaceDestroy(ws);
  return err;
}

void PicardWorkspaceDestroy(PicardWorkspace* ws) {
  cudaFree(ws->scratch);
  cudaFree(ws->errors);
  cudaFree(ws->stats);
  cudaFree(ws->a_bf16);
  *ws = PicardWorkspace();
}

cudaError_t PicardForward(const float* A, const float* Z, float* X, const PicardProblem& problem,
                          const PicardWorkspace& ws, cudaStream_t stream) {
  Args args{};
  args.aux = Z;
  args.x = X;
  return Solve<false>(A, args, problem, ws, stream);
}

cudaError_t PicardAdjoint(const float* A, const float* D, const float* G, float* V,
                          const PicardProblem& problem, const PicardWorkspace& ws,
                          cudaStream_t stream) {
  if (problem.n > 0 && problem.m > 0 && problem.n <= ws.max_n && problem.m <= ws.max_m) {
    cudaError_t err = cudaMemsetAsync(V, 0, sizeof(float) * problem.n * problem.m, stream);
    if (err != cudaSuccess) return err;
  }
  Args args{};
  args.aux = D;
  args.g = G;
  args.x = V;
  return Solve<true>(A, args, problem, ws, stream);
}

cudaError_t PicardReadStats(const PicardWorkspace& ws, PicardStats* stats, cudaStream_t stream) {
  cudaError_t err =
      cudaMemcpyAsync(stats, ws.stats, sizeof(PicardStats), cudaMemcpyDeviceToHost, stream);
  if (err != cudaSuccess) return err;
  return cudaStreamSynchronize(stream);
}

}  // namespace implicit_dl::cuda
