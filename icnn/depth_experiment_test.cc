#include "icnn/depth_experiment.h"

#include <torch/torch.h>

#include "common/data/synthetic.h"
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

}  // namespace
}  // namespace icnn
