#include "icnn/depth_experiment.h"

#include <torch/torch.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/dist/process_group.h"
#include "common/dist/testing.h"
#include "common/util/interrupt.h"
#include "gtest/gtest.h"

namespace icnn {
namespace {

TEST(RunVariant, PrincipledInitStartsNearLogCWhereDefaultInitExplodes) {
  const common::data::InMemoryDataset data = common::data::GaussianBlobs(400, 64, 10, 0);
  LearnabilityConfig c;
  c.epochs = 1;
  c.runs = 2;
  c.bs = 32;
  auto run = [&](InitScheme init) {
    return RunVariant({"v", IcnnOptions(64, 10).num_hidden(5).init(init)}, c, data).value();
  };
  const VariantResult principled = run(InitScheme::kPrincipled),
                      fallback = run(InitScheme::kDefault);
  ASSERT_EQ(principled.batch_losses.size(), 2u);
  EXPECT_EQ(principled.batch_losses[0].size(), 12u);  // ceil(360 / 32) updates
  // First update: the principled ICNN outputs ~unit-variance logits (loss near log 10 ~ 2.3);
  // He + clipping blows the logits up (Fig. 1 of the paper).
  EXPECT_LT(principled.batch_losses[0][0], 10.0);
  EXPECT_GT(fallback.batch_losses[0][0], 100.0);
  for (double gap : principled.convexity_gap) EXPECT_LE(gap, 1e-4);
}

common::data::InMemoryDataset SmallData() { return common::data::GaussianBlobs(200, 16, 4, 0); }

std::vector<Variant> TwoVariants() {
  return {{"icnn", IcnnOptions(16, 4).num_hidden(2).init(InitScheme::kDefault)},
          {"icnn_init", IcnnOptions(16, 4).num_hidden(2).init(InitScheme::kPrincipled)}};
}

LearnabilityConfig SmallConfig(const std::string& out_dir) {
  LearnabilityConfig c;
  c.epochs = 2;
  c.runs = 2;
  c.bs = 32;
  c.out_dir = out_dir;
  return c;
}

// Exact: every run is computed whole by one process from its own seed, whatever the world size.
void ExpectSameResults(const std::vector<VariantResult>& a, const std::vector<VariantResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t v = 0; v < a.size(); ++v) {
    EXPECT_EQ(a[v].name, b[v].name);
    EXPECT_EQ(a[v].batch_losses, b[v].batch_losses) << a[v].name;
    EXPECT_EQ(a[v].valid_accuracy, b[v].valid_accuracy) << a[v].name;
    EXPECT_EQ(a[v].convexity_gap, b[v].convexity_gap) << a[v].name;
    EXPECT_EQ(a[v].final_loss, b[v].final_loss) << a[v].name;
  }
}

std::vector<VariantResult> OneProcess(const LearnabilityConfig& c) {
  common::dist::ProcessGroup one;
  return RunVariants(TwoVariants(), c, SmallData(), one).value();
}

// Writes rank 0's results as runs_<rank>.pt rows of their own, for the parent to compare.
TEST(RunVariantsRank, Job) {
  if (!common::dist::InSpawnedRank()) GTEST_SKIP() << "runs as a rank of RunVariants.*";
  common::dist::ProcessGroup& world = **common::dist::World();
  const auto r =
      RunVariants(TwoVariants(), SmallConfig(std::getenv("RUN_DIR")), SmallData(), world);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), world.is_main() ? 2u : 0u);
  if (!world.is_main()) return;
  const std::vector<VariantResult> one = OneProcess(SmallConfig(""));
  ExpectSameResults(*r, one);
}

TEST(RunVariants, ThreeRanksGiveOneProcesssResults) {
  const std::string dir = common::data::TestDir("learnability_ranks");
  const auto ranks = common::dist::SpawnRanks(3, "RunVariantsRank.Job", {"RUN_DIR=" + dir});
  for (const auto& r : ranks) {
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("[  PASSED  ] 1 test"), std::string::npos) << r.output;
  }
}

// SIGTERM in the first run: the step finishes, the run's checkpoint holds its place in the epoch
// and its losses so far, and the resumed job ends with an uninterrupted one's results.
TEST(RunVariants, InterruptMidRunResumesBitIdentically) {
  const std::string dir = common::data::TestDir("learnability_interrupt");
  const std::vector<VariantResult> straight = OneProcess(SmallConfig(""));
  common::dist::ProcessGroup one;
  common::util::RequestInterrupt(SIGINT);
  const auto stopped = RunVariants(TwoVariants(), SmallConfig(dir), SmallData(), one);
  common::util::ClearInterruptForTesting();
  ASSERT_TRUE(common::util::IsInterrupted(stopped.status())) << stopped.status();
  EXPECT_TRUE(common::data::FileExists(dir + "/checkpoint_icnn_run0.pt"));
  LearnabilityConfig resumed = SmallConfig(dir);
  resumed.resume = true;
  ExpectSameResults(RunVariants(TwoVariants(), resumed, SmallData(), one).value(), straight);
  EXPECT_FALSE(common::data::FileExists(dir + "/checkpoint_icnn_run0.pt"));
}

}  // namespace
}  // namespace icnn
