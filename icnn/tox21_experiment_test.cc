#include "icnn/tox21_experiment.h"

#include <torch/torch.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <string>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/dist/process_group.h"
#include "common/dist/testing.h"
#include "common/train/checkpoint.h"
#include "common/util/interrupt.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace icnn {
namespace {

using ::testing::HasSubstr;

// Alkanes, alcohols and amines of growing length; every assay label is "has an oxygen".
Tox21Data Molecules() {
  std::string csv =
      "NR-AR,NR-AR-LBD,NR-AhR,NR-Aromatase,NR-ER,NR-ER-LBD,NR-PPAR-gamma,SR-ARE,SR-ATAD5,SR-HSE,"
      "SR-MMP,SR-p53,mol_id,smiles\n";
  for (int k = 1; k <= 30; ++k) {
    const std::string chain(k, 'C');
    for (const auto& [suffix, label] : {std::pair{"", "0"}, {"O", "1"}, {"N", "0"}}) {
      std::string row;
      for (int t = 0; t < 12; ++t) row += std::string(label) + ",";
      csv += row + "M," + chain + suffix + "\n";
    }
  }
  return ParseTox21Csv(csv, "synthetic.csv", 256).value();
}

TEST(RunTox21, LearnsASimpleSubstructureRuleForEveryModel) {
  const Tox21Data data = Molecules();
  for (const std::string model : {"fc", "icnn", "convex", "logreg"}) {
    Tox21Config c;
    c.model = model;
    c.epochs = 60;
    c.bs = 32;
    c.lr = 3e-3;
    c.runs = 2;
    const Tox21Result r = RunTox21(c, data).value();
    ASSERT_EQ(r.test_auc.size(), 2u);
    EXPECT_GT(r.test_auc[0][0], 0.9) << model;
  }
  EXPECT_THAT(Tox21Table({{{0.8, 0.9, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, NAN}}}),
              HasSubstr("80.0 ± 0.0"));
}

TEST(Tox21Summary, MediansOverRunsSkipUndefinedAucs) {
  std::vector<double> a(kTox21Tasks, 0.8), b(kTox21Tasks, 0.6), c(kTox21Tasks, 0.7);
  a[11] = b[11] = c[11] = NAN;
  b[0] = 0.9;
  const nlohmann::json s = Tox21Summary({{a, b, c}});
  EXPECT_EQ(s["runs"], 3);
  EXPECT_DOUBLE_EQ(s["median_test_auc_per_task"][0].get<double>(), 0.8);  // of 0.8, 0.9, 0.7
  EXPECT_DOUBLE_EQ(s["median_test_auc_per_task"][1].get<double>(), 0.7);  // of 0.8, 0.6, 0.7
  EXPECT_TRUE(s["median_test_auc_per_task"][11].is_null());
  // Run averages over the 11 defined tasks: 0.8, (0.9 + 10 * 0.6) / 11, 0.7.
  EXPECT_NEAR(s["median_average_test_auc"].get<double>(), 0.7, 1e-12);
}

Tox21Config SmallConfig(const std::string& out_dir) {
  Tox21Config c;
  c.model = "icnn";
  c.epochs = 6;
  c.bs = 16;
  c.lr = 3e-3;
  c.runs = 3;
  c.out_dir = out_dir;
  return c;
}

// Exact: every run is computed whole by one process from its own seed, whatever the world size.
void ExpectSameAucs(const Tox21Result& a, const Tox21Result& b) {
  ASSERT_EQ(a.test_auc.size(), b.test_auc.size());
  for (size_t r = 0; r < a.test_auc.size(); ++r) {
    const torch::Tensor x = torch::tensor(a.test_auc[r], torch::kFloat64);
    const torch::Tensor y = torch::tensor(b.test_auc[r], torch::kFloat64);
    EXPECT_TRUE(torch::allclose(x, y, 0, 0, /*equal_nan=*/true)) << "run " << r << x << y;
  }
}

// The rows rank 0 recorded in <dir>/runs.pt, as a result.
Tox21Result Recorded(const std::string& dir, int64_t runs) {
  const common::train::TensorMap rows = common::train::LoadTensorMap(dir + "/runs.pt").value();
  Tox21Result r;
  for (int64_t k = 0; k < runs; ++k) {
    const torch::Tensor row = rows.at("run_" + std::to_string(k));
    r.test_auc.emplace_back(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
  }
  return r;
}

TEST(RunTox21Rank, Job) {
  if (!common::dist::InSpawnedRank()) GTEST_SKIP() << "runs as a rank of RunTox21.*";
  common::dist::ProcessGroup& world = **common::dist::World();
  const absl::StatusOr<Tox21Result> r =
      RunTox21(SmallConfig(std::getenv("RUN_DIR")), Molecules(), world);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->test_auc.size(), world.is_main() ? 3u : 0u);
}

TEST(RunTox21, TwoRanksGiveOneProcesssAucs) {
  const std::string dir = common::data::TestDir("tox21_ranks");
  const Tox21Result one = RunTox21(SmallConfig(""), Molecules()).value();
  const auto ranks = common::dist::SpawnRanks(2, "RunTox21Rank.Job", {"RUN_DIR=" + dir});
  for (const auto& r : ranks) ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectSameAucs(Recorded(dir, 3), one);
  // Each run's checkpoint is removed once the run is recorded.
  for (int k = 0; k < 3; ++k) {
    EXPECT_FALSE(common::data::FileExists(dir + "/checkpoint_run" + std::to_string(k) + ".pt"));
  }
}

// SIGTERM in run 0: the step finishes, the run's checkpoint holds its place in the epoch, and
// the resumed job ends with the AUCs of an uninterrupted one.
TEST(RunTox21, InterruptMidRunResumesBitIdentically) {
  const std::string dir = common::data::TestDir("tox21_interrupt");
  const Tox21Result straight = RunTox21(SmallConfig(""), Molecules()).value();
  common::util::RequestInterrupt(SIGTERM);  // arrives during the first step of run 0
  const absl::StatusOr<Tox21Result> stopped = RunTox21(SmallConfig(dir), Molecules());
  common::util::ClearInterruptForTesting();
  ASSERT_TRUE(common::util::IsInterrupted(stopped.status())) << stopped.status();
  EXPECT_THAT(std::string(stopped.status().message()), HasSubstr("(epoch 1, batch 1)"));
  EXPECT_TRUE(common::data::FileExists(dir + "/checkpoint_run0.pt"));
  EXPECT_FALSE(common::data::FileExists(dir + "/runs.pt"));
  Tox21Config resumed = SmallConfig(dir);
  resumed.resume = true;
  ExpectSameAucs(RunTox21(resumed, Molecules()).value(), straight);
  ExpectSameAucs(Recorded(dir, 3), straight);
}

TEST(RunTox21, NonFiniteLossIsAnErrorNamingTheRun) {
  Tox21Config c = SmallConfig("");
  c.lr = std::numeric_limits<double>::infinity();
  EXPECT_THAT(std::string(RunTox21(c, Molecules()).status().message()),
              HasSubstr("training loss is nan in run 0 epoch"));
}

TEST(RunTox21, BadConfigIsAClearError) {
  Tox21Config c;
  c.model = "gnn";
  EXPECT_THAT(std::string(Validate(c).message()),
              HasSubstr("--model must be fc, icnn, convex or logreg"));
}

}  // namespace
}  // namespace icnn
