// Flag parsing shared by the deep_weight_prior binaries: the reference's space-separated list
// flags (--hid_dim 32 128, --vae_list a b) given as comma- or space-separated values, and the
// per-conv sources of --init_list / --vae_list / --filters_list.
#ifndef DEEP_WEIGHT_PRIOR_CLI_COMMON_H_
#define DEEP_WEIGHT_PRIOR_CLI_COMMON_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "deep_weight_prior/experiments.h"

namespace deep_weight_prior {

// "a,b c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text);

// Exactly two positive widths.
absl::StatusOr<std::pair<int64_t, int64_t>> ParseHidDim(const std::string& text);

// Loads the VAEs of --vae_list (directories, resolved like user paths) and the kernels of
// --filters_list (.npy) for --init_list.
absl::StatusOr<KernelInit> LoadKernelInit(const std::string& init_list, const std::string& vae_list,
                                          const std::string& filters_list);

// Joins "--flag v1 v2 ..." into "--flag=v1,v2" for the list flags, so the reference's command
// lines work with Abseil's flags. Returns argv pointers into `storage`.
std::vector<char*> JoinListFlags(int argc, char** argv, const std::vector<std::string>& list_flags,
                                 std::vector<std::string>& storage);

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_CLI_COMMON_H_
