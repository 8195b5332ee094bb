// The largest-magnitude eigenvalue of the Hessian of a training loss (the paper's Table 3, the
// reference's util/hessian.py): power iteration on Hessian-vector products computed by double
// backward, averaged over a fixed set of batches, with the reference's infinity-norm
// normalisation: estimate = the signed entry of Hv with the largest magnitude, v <- Hv / estimate.
// At convergence the estimate is the signed dominant eigenvalue.
#ifndef WEIGHTNORM_INIT_HESSIAN_H_
#define WEIGHTNORM_INIT_HESSIAN_H_

#include <torch/types.h>

#include <functional>
#include <vector>

namespace weightnorm_init {

struct HessianEstimate {
  double value = 0;           // the last estimate
  std::vector<double> trace;  // the estimate after every iteration
};

// H v for the mean over batches 0..num_batches-1 of batch_loss(b) (a scalar whose graph reaches
// `params`). Cost per call: num_batches forward + double-backward passes.
std::vector<torch::Tensor> HessianVectorProduct(
    const std::vector<torch::Tensor>& params,
    const std::function<torch::Tensor(int64_t batch)>& batch_loss, int64_t num_batches,
    const std::vector<torch::Tensor>& v);

// `iters` power iterations from v0 ~ N(0, I) drawn with `gen`. The mean divides by the number of
// batches summed (the reference divided by one more).
HessianEstimate HessianSpectralNorm(const std::vector<torch::Tensor>& params,
                                    const std::function<torch::Tensor(int64_t batch)>& batch_loss,
                                    int64_t num_batches, int iters, torch::Generator& gen);

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_HESSIAN_H_
