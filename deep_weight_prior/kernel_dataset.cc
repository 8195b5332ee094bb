#include "deep_weight_prior/kernel_dataset.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/data/dataset.h"
#include "common/data/file_bytes.h"
#include "common/data/npy.h"
#include "common/util/status_macros.h"

namespace deep_weight_prior {

torch::Tensor ExtractKernels(const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 4 && weight.size(2) == weight.size(3),
              "ExtractKernels wants [O, I, K, K], got ", weight.sizes());
  return weight.detach()
      .reshape({-1, 1, weight.size(2), weight.size(3)})
      .to(torch::kFloat)
      .contiguous();
}

torch::Tensor PruneKernels(const torch::Tensor& kernels, double min_norm) {
  const torch::Tensor keep = kernels.flatten(1).norm(2, 1) >= min_norm;
  return kernels.index({keep}).contiguous();
}

KernelSplit SplitKernels(const torch::Tensor& kernels, double train_fraction, uint64_t seed) {
  const int64_t n = kernels.size(0);
  const int64_t n_train =
      static_cast<int64_t>(std::llround(train_fraction * static_cast<double>(n)));
  const common::data::SplitIndices s = common::data::RandomSplit(n, n - n_train, seed);
  return {kernels.index_select(0, s.train).contiguous(),
          kernels.index_select(0, s.valid).contiguous()};
}

absl::Status SaveKernelSplit(const std::string& dir, const KernelSplit& split) {
  RETURN_IF_ERROR(common::data::MakeDirs(dir));
  RETURN_IF_ERROR(common::data::WriteNpy(dir + "/train.npy", split.train));
  return common::data::WriteNpy(dir + "/test.npy", split.test);
}

absl::StatusOr<KernelSplit> LoadKernelSplit(const std::string& dir) {
  KernelSplit s;
  ASSIGN_OR_RETURN(s.train, common::data::ReadNpy(dir + "/train.npy"));
  ASSIGN_OR_RETURN(s.test, common::data::ReadNpy(dir + "/test.npy"));
  for (const auto& [name, t] :
       {std::pair<const char*, torch::Tensor*>{"train", &s.train}, {"test", &s.test}}) {
    if (t->dim() != 4 || t->size(1) != 1 || t->size(2) != t->size(3) || t->size(0) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          dir, "/", name, ".npy: want kernels [N, 1, K, K], got ", t->sizes().vec().size(), "-d"));
    }
    *t = t->to(torch::kFloat);
  }
  if (s.train.size(2) != s.test.size(2)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": train kernels are ", s.train.size(2),
                                                   "x", s.train.size(2), ", test kernels ",
                                                   s.test.size(2), "x", s.test.size(2)));
  }
  return s;
}

absl::StatusOr<KernelSplit> BuildKernelSet(const std::string& out_dir, int kernel_size,
                                           const std::vector<torch::Tensor>& parts, double min_norm,
                                           double train_fraction, uint64_t seed) {
  const std::string name = absl::StrCat("conv", kernel_size, "x", kernel_size);
  if (parts.empty()) return absl::InvalidArgumentError(name + ": no source kernels");
  const torch::Tensor all = torch::cat(parts), kept = PruneKernels(all, min_norm);
  KernelSplit split = SplitKernels(kept, train_fraction, seed);
  if (split.train.size(0) == 0 || split.test.size(0) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, ": ", kept.size(0), " of ", all.size(0), " kernels have an L2 norm >= ", min_norm,
        ", too few for a train and a test kernel (lower --prune_", kernel_size, "x", kernel_size,
        " or train more source nets)"));
  }
  RETURN_IF_ERROR(SaveKernelSplit(out_dir + "/" + name, split));
  return split;
}

}  // namespace deep_weight_prior
