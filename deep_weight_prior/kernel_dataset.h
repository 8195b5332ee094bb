// The kernel dataset of the Deep Weight Prior (Sec. 3.1 of the spec): every KxK slice of a conv
// layer's weights [O, I, K, K] as one example [O*I, 1, K, K], kernels with a small L2 norm pruned
// (a strong L2 penalty on the source nets drives most of them to zero), an 80/20 train/test split,
// stored as float32 .npy files train.npy / test.npy.
#ifndef DEEP_WEIGHT_PRIOR_KERNEL_DATASET_H_
#define DEEP_WEIGHT_PRIOR_KERNEL_DATASET_H_

#include <torch/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace deep_weight_prior {

// [O, I, K, K] -> [O*I, 1, K, K] in (out, in) row-major order.
torch::Tensor ExtractKernels(const torch::Tensor& weight);

// The kernels whose L2 norm is >= min_norm.
torch::Tensor PruneKernels(const torch::Tensor& kernels, double min_norm);

struct KernelSplit {
  torch::Tensor train, test;
};

// A seeded random split with round(train_fraction * N) training kernels.
KernelSplit SplitKernels(const torch::Tensor& kernels, double train_fraction, uint64_t seed);

absl::Status SaveKernelSplit(const std::string& dir, const KernelSplit& split);

// One kernel set of the dataset (conv7x7 or conv5x5) from the source nets' kernels `parts`:
// pruned (L2 norm >= min_norm), split (SplitKernels) and saved to <out_dir>/<name>/. Both files
// need a kernel, else a FailedPrecondition naming the set, the counts and the threshold's flag
// (--prune_7x7 / --prune_5x5). Collect_kernels and the pipeline both use it.
absl::StatusOr<KernelSplit> BuildKernelSet(const std::string& out_dir, int kernel_size,
                                           const std::vector<torch::Tensor>& parts, double min_norm,
                                           double train_fraction, uint64_t seed);

// Reads dir/train.npy and dir/test.npy; both must be float32 [N, 1, K, K] with the same K.
absl::StatusOr<KernelSplit> LoadKernelSplit(const std::string& dir);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_KERNEL_DATASET_H_
