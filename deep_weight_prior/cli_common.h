// Flag parsing shared by the deep_weight_prior binaries: the reference's space-separated list
// flags (--hid_dim 32 128, --vae_list a b) given as comma- or space-separated values, and the
// per-conv sources of --init_list / --vae_list / --filters_list.
#ifndef DEEP_WEIGHT_PRIOR_CLI_COMMON_H_
#define DEEP_WEIGHT_PRIOR_CLI_COMMON_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/util/runtime.h"
#include "deep_weight_prior/experiments.h"

namespace deep_weight_prior {

// Exactly two positive widths.
absl::StatusOr<std::pair<int64_t, int64_t>> ParseHidDim(const std::string& text);

// Loads the VAEs of --vae_list (directories, resolved like user paths) and the kernels of
// --filters_list (.npy) for --init_list.
absl::StatusOr<KernelInit> LoadKernelInit(const std::string& init_list, const std::string& vae_list,
                                          const std::string& filters_list);

// The flags train_net and train_bnn share (defined in cli_common.cc): --num_examples
// --data_split_seed --classes --lr --epochs --decrease_from --bs --model --model_size --hid_dim
// --init_list --vae_list --filters_list.
struct SharedRun {
  Domain domain;                        // the --classes of --data_dir
  common::data::InMemoryDataset train;  // the stratified --num_examples subset
  KernelInit init;                      // --init_list with its VAEs / filters
  std::string model;                    // --model
  double model_size = 1;                // --model_size
  std::pair<int64_t, int64_t> hid;      // --hid_dim
  double lr = 0;
  int64_t epochs = 0, decrease_from = 0, bs = 0;

  // The network flags into `net` (model, width, fconv channels, classes).
  void SetNet(NetOptions& net) const;
};
absl::StatusOr<SharedRun> LoadSharedRun(const std::string& data_dir);

// The list flags of both binaries, for common::util::RunMainWithListFlags.
extern const std::vector<std::string> kSharedListFlags;

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_CLI_COMMON_H_
