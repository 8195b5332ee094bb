// Builds the kernel dataset from trained source nets (model.pt of train_net): every 7x7 kernel of
// conv1 and every 5x5 kernel of the later convs (conv2 of fconv; conv2-4 / conv2-3 of the CIFAR
// models), pruned by L2 norm, split 80/20, as conv7x7/{train,test}.npy and
// conv5x5/{train,test}.npy.
//
//   ./bazelw run //deep_weight_prior:collect_kernels -- --models runs/source_net_1
//   runs/source_net_2 \
//       --hid_dim 64 128 --out_dir=runs/kernels
//   ./bazelw run //deep_weight_prior:collect_kernels -- --models runs/cifar100_net_1 --model
//   cifarnetnew \
//       --model_size 0.5 --n_classes 100 --out_dir=runs/cifar_kernels
#include <cstdio>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/train/checkpoint.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "deep_weight_prior/cli_common.h"
#include "deep_weight_prior/kernel_dataset.h"
#include "deep_weight_prior/nets.h"

ABSL_FLAG(std::string, models, "",
          "train_net output directories (each with model.pt) or model.pt files.");
ABSL_FLAG(int64_t, n_classes, 10, "Classes of the source nets' classifier.");
ABSL_FLAG(double, prune_7x7, 0.05,
          "Keep 7x7 kernels with L2 norm >= this (the released set: min 0.392).");
ABSL_FLAG(double, prune_5x5, 0.02,
          "Keep 5x5 kernels with L2 norm >= this (the released set: min 0.131).");
ABSL_FLAG(double, train_fraction, 0.8, "Share of the kept kernels in train.npy.");

ABSL_FLAG(std::string, net_cfg, "vanilla", "The source nets' --net_cfg (a vanilla one).");

// cli_common.cc: the source nets' architecture.
ABSL_DECLARE_FLAG(std::string, hid_dim);
ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(double, model_size);

namespace deep_weight_prior {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  ASSIGN_OR_RETURN(auto hid, ParseHidDim(absl::GetFlag(FLAGS_hid_dim)));
  const std::vector<std::string> models =
      common::util::ParseStringList(absl::GetFlag(FLAGS_models));
  if (models.empty()) return absl::InvalidArgumentError("--models lists no source nets");
  const double train_fraction = absl::GetFlag(FLAGS_train_fraction);
  if (!(train_fraction > 0 && train_fraction < 1)) {  // both train.npy and test.npy need kernels
    return absl::InvalidArgumentError(
        absl::StrCat("--train_fraction must be in (0, 1), got ", train_fraction));
  }
  std::vector<torch::Tensor> k7, k5;
  for (const std::string& m : models) {
    std::string path = common::util::ResolveUserPath(m);
    if (path.size() < 3 || path.substr(path.size() - 3) != ".pt") path += "/model.pt";
    NetOptions o;
    o.model = absl::GetFlag(FLAGS_model), o.model_size = absl::GetFlag(FLAGS_model_size);
    o.net_cfg = absl::GetFlag(FLAGS_net_cfg), o.c1 = hid.first, o.c2 = hid.second;
    o.classes = absl::GetFlag(FLAGS_n_classes);
    RETURN_IF_ERROR(Validate(o));
    DwpNet net(o);
    RETURN_IF_ERROR(common::train::LoadStateDict(path, *net));
    k7.push_back(ExtractKernels(net->convs[0].kernel()));
    for (size_t i = 1; i < net->convs.size(); ++i)
      k5.push_back(ExtractKernels(net->convs[i].kernel()));
  }
  const std::string out = rt.ResolveOutDir("deep_weight_prior_kernels");
  for (const auto& [size, parts, threshold] : {std::tuple<int, std::vector<torch::Tensor>*, double>{
                                                   7, &k7, absl::GetFlag(FLAGS_prune_7x7)},
                                               {5, &k5, absl::GetFlag(FLAGS_prune_5x5)}}) {
    ASSIGN_OR_RETURN(const KernelSplit split,
                     BuildKernelSet(out, size, *parts, threshold, train_fraction, rt.seed));
    int64_t total = 0;
    for (const torch::Tensor& p : *parts) total += p.size(0);
    std::printf("conv%dx%d: kept %lld of %lld kernels\n", size, size,
                static_cast<long long>(split.train.size(0) + split.test.size(0)),
                static_cast<long long>(total));
  }
  std::printf("kernel dataset in %s\n", out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace deep_weight_prior

int main(int argc, char** argv) {
  return common::util::RunMainWithListFlags(
      argc, argv, {"--hid_dim", "--models"},
      "Collects, prunes and splits the conv kernels of trained source nets.",
      deep_weight_prior::Main);
}
