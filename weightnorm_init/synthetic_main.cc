// Figure 1 of Arpit, Campos & Bengio (NeurIPS 2019): forward and backward norm ratios through a
// 20-layer WN-MLP and a 40-block ResNet at initialisation.
//
//   ./bazelw run //weightnorm_init:synthetic                 # -> runs/weightnorm_init_synthetic/
#include <cstdio>

#include "absl/flags/flag.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "weightnorm_init/norm_propagation.h"

namespace {
const weightnorm_init::SyntheticOptions kDefaults;
}  // namespace

ABSL_FLAG(int64_t, samples, kDefaults.samples, "Input samples x ~ N(0, I) per setting.");
ABSL_FLAG(int64_t, input_dim, kDefaults.input_dim, "Input dimension n.");
ABSL_FLAG(int64_t, mlp_depth, kDefaults.mlp_depth, "MLP layers L.");
ABSL_FLAG(int64_t, resnet_blocks, kDefaults.resnet_blocks, "ResNet blocks B.");

namespace weightnorm_init {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  SyntheticOptions o;
  o.samples = absl::GetFlag(FLAGS_samples);
  o.input_dim = absl::GetFlag(FLAGS_input_dim);
  o.mlp_depth = absl::GetFlag(FLAGS_mlp_depth);
  o.resnet_blocks = absl::GetFlag(FLAGS_resnet_blocks);
  o.seed = rt.seed;
  if (o.samples < 2 || o.input_dim < 1 || o.mlp_depth < 2 || o.resnet_blocks < 2) {
    return absl::InvalidArgumentError(
        "--samples must be >= 2, --input_dim >= 1, --mlp_depth and --resnet_blocks >= 2");
  }
  const Figure1 f = RunFigure1(o);
  const std::string dir = rt.ResolveOutDir("weightnorm_init_synthetic");
  RETURN_IF_ERROR(WriteFigure1(f, dir));
  for (size_t i = 0; i < f.mlp.size(); ++i) {
    std::printf(
        "%-22s m=%-5lld MLP ||h_L||/||x|| %.3f, ||dh_1||/||dh_L|| %.3f | ResNet ||h_B||/||x|| "
        "%.3f, ||dh_1||/||dh_B|| %.3f\n",
        SettingName(f.mlp[i].forward.setting).c_str(),
        static_cast<long long>(f.mlp[i].forward.width), f.mlp[i].forward.mean.back(),
        f.mlp[i].backward.mean.front(), f.resnet[i].forward.mean.back(),
        f.resnet[i].backward.mean.front());
  }
  std::printf("figure1.svg, figure1.png and figure1.csv in %s\n", dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace weightnorm_init

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Figure 1 of 'How to Initialize your Network? Robust Initialization for "
      "WeightNorm & ResNets': norm ratios at initialisation.",
      weightnorm_init::Main);
}
