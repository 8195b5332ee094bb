#include "deep_weight_prior/cli_common.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/data/npy.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"

namespace deep_weight_prior {

std::vector<std::string> SplitList(const std::string& text) {
  return absl::StrSplit(text, absl::ByAnyChar(", "), absl::SkipEmpty());
}

absl::StatusOr<std::pair<int64_t, int64_t>> ParseHidDim(const std::string& text) {
  const std::vector<std::string> parts = SplitList(text);
  int64_t a = 0, b = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &a) || !absl::SimpleAtoi(parts[1], &b) || a < 1 || b < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--hid_dim wants two positive widths, got '", text, "'"));
  }
  return std::make_pair(a, b);
}

absl::StatusOr<KernelInit> LoadKernelInit(const std::string& init_list, const std::string& vae_list,
                                          const std::string& filters_list) {
  KernelInit init;
  init.init_list = SplitList(init_list);
  for (const std::string& dir : SplitList(vae_list)) {
    ASSIGN_OR_RETURN(KernelVae vae, LoadVae(common::util::ResolveUserPath(dir)));
    init.vaes.push_back(vae);
  }
  for (const std::string& path : SplitList(filters_list)) {
    ASSIGN_OR_RETURN(torch::Tensor f, common::data::ReadNpy(common::util::ResolveUserPath(path)));
    init.filters.push_back(f.to(torch::kFloat));
  }
  return init;
}

std::vector<char*> JoinListFlags(int argc, char** argv, const std::vector<std::string>& list_flags,
                                 std::vector<std::string>& storage) {
  storage.reserve(argc);
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (std::find(list_flags.begin(), list_flags.end(), arg) != list_flags.end()) {
      std::vector<std::string> values;
      while (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) values.push_back(argv[++i]);
      arg += "=" + absl::StrJoin(values, ",");
    }
    storage.push_back(arg);
  }
  std::vector<char*> out;
  for (std::string& s : storage) out.push_back(s.data());
  return out;
}

}  // namespace deep_weight_prior
