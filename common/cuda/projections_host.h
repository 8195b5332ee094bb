// Plain C++ references (no CUDA, no LibTorch) for the GPU projections of projections.h, computed
// in double by sorting (Duchi et al. 2008) rather than by the kernels' Michelot iteration, so a
// test compares two different algorithms. Slow and simple on purpose.
#ifndef COMMON_CUDA_PROJECTIONS_HOST_H_
#define COMMON_CUDA_PROJECTIONS_HOST_H_

#include <vector>

namespace common::cuda {

// x viewed as [outer, len, inner]; a group is the fibre x[o, :, j] (len elements, stride inner):
// a [out, in] matrix's rows are {out, in, 1}, a conv kernel's input-channel fibres
// {cout, cin, k * k}.
struct GroupLayout {
  int outer = 1, len = 1, inner = 1;
  int Groups() const { return outer * inner; }
  long Elements() const { return static_cast<long>(outer) * len * inner; }
};

// The threshold theta >= 0 with sum_i max(v_i - theta, 0) = radius for v >= 0 with sum > radius.
double L1Threshold(std::vector<double> v, double radius);

// Row-wise projection of a [rows, cols] onto the L1 ball of `radius` (rows inside unchanged).
void ProjectRowsL1BallHost(std::vector<float>& a, int rows, int cols, double radius);

// Projection of x onto {sum_g ||(x - anchor)_g||_2 <= radius} (points inside unchanged).
void ProjectGroupNormBallHost(std::vector<float>& x, const std::vector<float>& anchor,
                              const GroupLayout& layout, double radius);

// sum_g ||(x - anchor)_g||_2.
double GroupNormDistanceHost(const std::vector<float>& x, const std::vector<float>& anchor,
                             const GroupLayout& layout);

}  // namespace common::cuda

#endif  // COMMON_CUDA_PROJECTIONS_HOST_H_
