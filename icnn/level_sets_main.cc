// Level-set exploration with a trained Tox21 ICNN (the reference's tox21/level_sets.py): for
// random pairs of compounds (x0, x1) and one assay, the points between them at which the network's
// prediction equals its prediction at x0, by interpolation (pulled to the level towards the
// minimum) and by tracking (steps along the level set). Writes level_sets.npz.
//
//   ./bazelw run //icnn:tox21 -- --data_dir=DIR --model=icnn --save_models
//   --out_dir=runs/tox21_icnn
//   ./bazelw run //icnn:level_sets -- --data_dir=DIR --model_dir=runs/tox21_icnn --assay=0
#include <torch/torch.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/data/dataset.h"
#include "common/data/file_bytes.h"
#include "common/data/npy.h"
#include "common/train/checkpoint.h"
#include "common/train/run_dir.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "icnn/level_set_paths.h"
#include "icnn/tox21_experiment.h"

ABSL_FLAG(std::string, model_dir, "",
          "A tox21 output directory with config.json and model_<run>.pt (--save_models).");
ABSL_FLAG(int, run, 0, "Which run's model.");
ABSL_FLAG(int, assay, 0, "Assay (output) 0..11 whose logit is followed.");
ABSL_FLAG(int, pairs, 12, "Random compound pairs (same as reference: 12).");
ABSL_FLAG(int, points, 10, "Points per path (same as reference: 10).");
ABSL_FLAG(int, min_steps, 1000, "Gradient steps to the minimum (same as reference: 1000 of 1.0).");
ABSL_FLAG(double, step_size, 1.0, "Gradient step size.");
ABSL_FLAG(std::string, features, "",
          "tox21_original layout: the CDDD feature matrix (as for tox21).");
ABSL_FLAG(int, bits, 2048, "ECFP bits (MoleculeNet CSV; as for tox21).");

namespace icnn {
namespace {

absl::StatusOr<Tox21Config> ReadRunConfig(const std::string& dir) {
  ASSIGN_OR_RETURN(const nlohmann::json j, common::train::ReadJsonFile(dir + "/config.json"));
  Tox21Config c;
  c.model = j.value("model", c.model);
  c.skip = j.value("skip", std::string("false")) == "true";
  c.bad_init = j.value("bad_init", std::string("false")) == "true";
  return c;
}

torch::Tensor Stack(const std::vector<torch::Tensor>& v) { return torch::stack(v); }

absl::Status Main(const common::util::Runtime& rt) {
  const std::string dir = common::util::ResolveUserPath(absl::GetFlag(FLAGS_model_dir));
  const int assay = absl::GetFlag(FLAGS_assay), pairs = absl::GetFlag(FLAGS_pairs),
            points = absl::GetFlag(FLAGS_points);
  if (dir.empty() || assay < 0 || assay >= kTox21Tasks || pairs < 1 || points < 1) {
    return absl::InvalidArgumentError(
        "--model_dir is required; --assay must be 0..11, --pairs and --points >= 1");
  }
  ASSIGN_OR_RETURN(Tox21Config c, ReadRunConfig(dir));
  ASSIGN_OR_RETURN(Tox21Splits s, LoadTox21Dir(rt.data_dir, absl::GetFlag(FLAGS_features),
                                               absl::GetFlag(FLAGS_bits)));
  const torch::Tensor pool =
      s.test.features.defined() ? s.test.features : s.train.features;  // pairs from test
  Tox21Net net(pool.size(1), c);
  RETURN_IF_ERROR(common::train::LoadStateDict(
      absl::StrCat(dir, "/model_", absl::GetFlag(FLAGS_run), ".pt"), *net));
  net->eval();
  if (c.model != "icnn" && c.model != "convex")
    std::printf("note: --model=%s is not convex in its input\n", c.model.c_str());
  const ScalarFunction f = [&](const torch::Tensor& x) {
    return net->forward(x.unsqueeze(0))[0][assay];
  };
  torch::Generator gen = common::data::SeededGenerator(rt.seed, 11);
  const torch::Tensor idx = torch::randint(pool.size(0), {pairs, 2}, gen, torch::kInt64);
  std::vector<torch::Tensor> x0s, x1s, interp, track;
  double max_gap = 0;
  for (int p = 0; p < pairs; ++p) {
    const torch::Tensor x0 = pool[idx[p][0].item<int64_t>()], x1 = pool[idx[p][1].item<int64_t>()];
    const torch::Tensor x_min =
        FindMinimum(f, x0, absl::GetFlag(FLAGS_min_steps), absl::GetFlag(FLAGS_step_size));
    const torch::Tensor x_ref =
        FindMinimum(f, x0, 10, absl::GetFlag(FLAGS_step_size));  // same as reference
    x0s.push_back(x0), x1s.push_back(x1);
    interp.push_back(Stack(InterpolateAlongLevelSet(f, x0, x1, x_min, points)));
    track.push_back(Stack(TrackLevelSet(f, x0, x1, x_ref, points)));
    torch::NoGradGuard no_grad;
    const double level = f(x0).item<double>();
    for (const torch::Tensor& path : {interp.back(), track.back()}) {
      max_gap = std::max(max_gap,
                         (net->forward(path).select(1, assay) - level).abs().max().item<double>());
    }
  }
  torch::NoGradGuard no_grad;
  auto pred = [&](const std::vector<torch::Tensor>& paths) {
    return torch::sigmoid(net->forward(Stack(paths).flatten(0, 1)).select(1, assay))
        .view({pairs, points});
  };
  const std::string out = rt.ResolveOutDir("icnn_level_sets");
  RETURN_IF_ERROR(common::data::MakeDirs(out));
  RETURN_IF_ERROR(common::data::WriteNpz(
      out + "/level_sets.npz",
      {{"x0", Stack(x0s)},
       {"x1", Stack(x1s)},
       {"interpolation", Stack(interp)},
       {"tracking", Stack(track)},
       {"interpolation_pred", pred(interp)},
       {"tracking_pred", pred(track)},
       {"level_pred", torch::sigmoid(net->forward(Stack(x0s)).select(1, assay))}}));
  std::printf(
      "%d pairs, assay %d: largest |logit - level| on the paths %.3g; level_sets.npz in %s\n",
      pairs, assay, max_gap, out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace icnn

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Convex level-set exploration between compound pairs with a trained Tox21 ICNN "
      "(Hoedt & Klambauer 2023).",
      icnn::Main);
}
