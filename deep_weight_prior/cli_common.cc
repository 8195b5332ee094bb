#include "deep_weight_prior/cli_common.h"

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/data/npy.h"
#include "common/util/list_flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"

ABSL_FLAG(int64_t, num_examples, 0, "Stratified training subset (0: all).");
ABSL_FLAG(uint64_t, data_split_seed, 42,
          "Seed of the subset: the indices of scikit-learn's stratified train_test_split with "
          "random_state=seed, as the reference (< 2^32).");
ABSL_FLAG(std::string, classes, "0,1,2,3,4,5,6,7,8,9",
          "Classes used (renumbered from 0), e.g. 5,6,7,8,9.");
ABSL_FLAG(double, lr, 1e-3, "Adam learning rate, decayed linearly per epoch from --decrease_from.");
ABSL_FLAG(int64_t, epochs, 100, "Epochs.");
ABSL_FLAG(int64_t, decrease_from, 0, "Epoch where the linear LR decay starts.");
ABSL_FLAG(int64_t, bs, 256, "Batch size.");
ABSL_FLAG(std::string, model, "fconv",
          "fconv (28x28 MNIST-style data), cifarnet or cifarnetnew (32x32 CIFAR data).");
ABSL_FLAG(double, model_size, 1.0, "CIFAR models: width k (convs 128k and 256k channels).");
ABSL_FLAG(std::string, hid_dim, "32 64", "fconv: channels of conv1 and conv2.");
ABSL_FLAG(
    std::string, init_list, "",
    "Per conv: xavier (default), vae, filters or recon (VAE reconstructions of source kernels).");
ABSL_FLAG(std::string, vae_list, "",
          "Per conv: a kernel VAE directory: train_vae's (vae.json + vae_params.pt) or one of the "
          "authors' released ones as distributed (params.yaml + vae_params.torch).");
ABSL_FLAG(std::string, filters_list, "",
          "Per conv: source kernels (.npy [N, 1, K, K]) for --init_list filters.");

namespace deep_weight_prior {

const std::vector<std::string> kSharedListFlags = {"--hid_dim", "--init_list", "--vae_list",
                                                   "--filters_list"};

absl::StatusOr<std::pair<int64_t, int64_t>> ParseHidDim(const std::string& text) {
  const std::vector<std::string> parts = common::util::ParseStringList(text);
  int64_t a = 0, b = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &a) || !absl::SimpleAtoi(parts[1], &b) ||
      a < 1 || b < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--hid_dim wants two positive widths, got '", text, "'"));
  }
  return std::make_pair(a, b);
}

absl::StatusOr<KernelInit> LoadKernelInit(const std::string& init_list, const std::string& vae_list,
                                          const std::string& filters_list) {
  KernelInit init;
  init.init_list = common::util::ParseStringList(init_list);
  for (const std::string& dir : common::util::ParseStringList(vae_list)) {
    ASSIGN_OR_RETURN(KernelVae vae, LoadVae(common::util::ResolveUserPath(dir)));
    init.vaes.push_back(vae);
  }
  for (const std::string& path : common::util::ParseStringList(filters_list)) {
    ASSIGN_OR_RETURN(torch::Tensor f, common::data::ReadNpy(common::util::ResolveUserPath(path)));
    init.filters.push_back(f.to(torch::kFloat));
  }
  return init;
}

absl::StatusOr<SharedRun> LoadSharedRun(const std::string& data_dir) {
  SharedRun r;
  std::vector<int64_t> classes;
  ASSIGN_OR_RETURN(const std::vector<int64_t> listed,
                   common::util::ParseIntList("classes", absl::GetFlag(FLAGS_classes)));
  for (int64_t c : listed) {
    if (std::find(classes.begin(), classes.end(), c) != classes.end()) {
      return absl::InvalidArgumentError(absl::StrCat("--classes: class ", c, " is listed twice"));
    }
    classes.push_back(c);
  }
  if (absl::GetFlag(FLAGS_num_examples) < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--num_examples must be >= 0 (0: all), got ",
                                                   absl::GetFlag(FLAGS_num_examples)));
  }
  if (absl::GetFlag(FLAGS_data_split_seed) > 0xffffffffULL) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data_split_seed must be below 2^32 (a numpy seed), got ",
                     absl::GetFlag(FLAGS_data_split_seed)));
  }
  r.model = absl::GetFlag(FLAGS_model);
  r.model_size = absl::GetFlag(FLAGS_model_size);
  ASSIGN_OR_RETURN(r.domain, LoadDomain(data_dir, classes, r.model));
  ASSIGN_OR_RETURN(r.train, FewShot(r.domain.train, absl::GetFlag(FLAGS_num_examples),
                                    absl::GetFlag(FLAGS_data_split_seed)));
  ASSIGN_OR_RETURN(r.init,
                   LoadKernelInit(absl::GetFlag(FLAGS_init_list), absl::GetFlag(FLAGS_vae_list),
                                  absl::GetFlag(FLAGS_filters_list)));
  ASSIGN_OR_RETURN(r.hid, ParseHidDim(absl::GetFlag(FLAGS_hid_dim)));
  r.lr = absl::GetFlag(FLAGS_lr), r.epochs = absl::GetFlag(FLAGS_epochs),
  r.bs = absl::GetFlag(FLAGS_bs);
  r.decrease_from = absl::GetFlag(FLAGS_decrease_from);
  return r;
}

void SharedRun::SetNet(NetOptions& net) const {
  net.model = model;
  net.model_size = model_size;
  net.c1 = hid.first;
  net.c2 = hid.second;
  net.classes = domain.classes;
}

}  // namespace deep_weight_prior
