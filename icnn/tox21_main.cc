// The Tox21 experiment (Table 1 of Hoedt & Klambauer 2023) on the public MoleculeNet file:
// ECFP fingerprints from RDKit, masked BCE over the 12 assays, test ROC-AUC per assay over runs.
//
//   ./bazelw run //icnn:tox21 -- --data_dir=~/data/tox21 --model=icnn --epochs=300
//   (--data_dir holds tox21.csv or tox21.csv.gz)
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "common/dist/process_group.h"
#include "common/dist/run_dir.h"
#include "common/train/run_dir.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "icnn/tox21_experiment.h"

namespace {
const icnn::Tox21Config kDefaults;
}  // namespace

ABSL_FLAG(std::string, model, kDefaults.model, "fc, icnn (lazy clipping), convex (exp) or logreg.");
ABSL_FLAG(bool, bad_init, kDefaults.bad_init,
          "He init for the convex layers instead of the principled init.");
ABSL_FLAG(bool, skip, kDefaults.skip,
          "Linear skips from the input to the hidden and output layers.");
ABSL_FLAG(int64_t, epochs, kDefaults.epochs, "Epochs.");
ABSL_FLAG(int64_t, bs, kDefaults.bs, "Batch size.");
ABSL_FLAG(double, lr, kDefaults.lr, "Adam learning rate (summed masked BCE).");
ABSL_FLAG(int64_t, runs, kDefaults.runs,
          "Runs (seeds); spread over the processes of a torchrun / srun job.");
ABSL_FLAG(bool, resume, false,
          "Continue the job in --out_dir: recorded runs are kept, a checkpointed run continues "
          "from its checkpoint (with any number of processes).");
ABSL_FLAG(bool, save_models, false,
          "Save every run's weights as model_<run>.pt in the output directory (for level_sets).");
ABSL_FLAG(int, bits, 2048, "ECFP bits (MoleculeNet CSV).");
ABSL_FLAG(std::string, features, "",
          "tox21_original layout: the CDDD feature matrix (default: compound_features_cddd.npy in "
          "--data_dir "
          "or its tox21_original/).");
ABSL_FLAG(double, test_fraction, kDefaults.test_fraction, "Seeded random test split of the file.");

namespace icnn {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  if (absl::GetFlag(FLAGS_data_dir).empty()) {
    return absl::InvalidArgumentError(
        "--data_dir must hold MoleculeNet's tox21.csv(.gz) or the reference's tox21_original/ "
        "layout");
  }
  Tox21Config c;
  c.model = absl::GetFlag(FLAGS_model);
  c.bad_init = absl::GetFlag(FLAGS_bad_init);
  c.skip = absl::GetFlag(FLAGS_skip);
  c.epochs = absl::GetFlag(FLAGS_epochs);
  c.bs = absl::GetFlag(FLAGS_bs);
  c.lr = absl::GetFlag(FLAGS_lr);
  c.runs = absl::GetFlag(FLAGS_runs);
  c.test_fraction = absl::GetFlag(FLAGS_test_fraction);
  c.resume = absl::GetFlag(FLAGS_resume);
  c.save_models = absl::GetFlag(FLAGS_save_models);
  RETURN_IF_ERROR(Validate(c));
  c.out_dir = rt.ResolveOutDir(absl::StrCat("icnn_tox21_", c.model));
  const std::string& out = c.out_dir;
  // Run-parallel with torchrun / srun: each rank trains whole runs; rank 0 writes the results.
  ASSIGN_OR_RETURN(common::dist::ProcessGroup * world, common::dist::World());
  ASSIGN_OR_RETURN(std::optional<common::train::RunDir> run,
                   common::dist::OpenRunDirOnRankZero(
                       *world, out, common::train::CommandLineFlagsJson(), c.resume));
  Tox21Result r;
  ASSIGN_OR_RETURN(Tox21Splits s, LoadTox21Dir(rt.data_dir, absl::GetFlag(FLAGS_features),
                                               absl::GetFlag(FLAGS_bits)));
  if (s.test.features.defined()) {  // the reference's layout: train + valid -> test (its final_run)
    const Tox21Data train{torch::cat({s.train.features, s.valid.features}),
                          torch::cat({s.train.labels, s.valid.labels}), 0};
    if (world->is_main())
      std::printf(
          "tox21_original: %lld training (train + valid) and %lld test compounds, %lld features\n",
          static_cast<long long>(train.features.size(0)),
          static_cast<long long>(s.test.features.size(0)),
          static_cast<long long>(train.features.size(1)));
    ASSIGN_OR_RETURN(r, RunTox21(c, train, s.test, *world));
  } else {
    if (world->is_main())
      std::printf("%lld molecules, %lld invalid SMILES skipped\n",
                  static_cast<long long>(s.train.features.size(0)),
                  static_cast<long long>(s.train.invalid_smiles));
    ASSIGN_OR_RETURN(r, RunTox21(c, s.train, *world));
  }
  if (!run) return absl::OkStatus();                 // ranks other than 0
  RETURN_IF_ERROR(run->TruncateMetrics("run", -1));  // a resumed job writes every run's row again
  std::vector<std::string> auc_columns;  // NaN where a task's test labels have one class
  for (int t = 0; t < kTox21Tasks; ++t) auc_columns.push_back(absl::StrCat("auc", t));
  for (size_t i = 0; i < r.test_auc.size(); ++i) {
    common::train::MetricsRow row = {{"run", static_cast<double>(i)}};
    for (size_t t = 0; t < r.test_auc[i].size(); ++t)
      row.push_back({auc_columns[t], r.test_auc[i][t]});
    RETURN_IF_ERROR(run->AppendMetrics(row, auc_columns));
  }
  const std::string table = Tox21Table(r);
  RETURN_IF_ERROR(common::data::WriteFileAtomically(out + "/table.md", table));
  RETURN_IF_ERROR(run->WriteSummary(Tox21Summary(r)));
  std::printf("%s\nper-run AUCs in %s/metrics.csv, table in %s/table.md, summary.json\n",
              table.c_str(), out.c_str(), out.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace icnn

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Tox21 (Hoedt & Klambauer 2023, Table 1): fc / ICNN / convex / logreg "
      "on ECFP fingerprints of MoleculeNet's tox21.csv. Run-parallel over several processes or "
      "machines (each trains whole runs, so the AUCs are those of one process; rank 0 writes "
      "the run): python3 -m torch.distributed.run --nproc_per_node=N --no_python <this binary> "
      "... or srun -n N <this binary> ... (README: More than one process or machine).",
      icnn::Main);
}
