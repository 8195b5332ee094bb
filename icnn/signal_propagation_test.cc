#include "icnn/signal_propagation.h"

#include <torch/torch.h>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "gtest/gtest.h"

namespace icnn {
namespace {

TEST(Sigprop, DefaultInitIcnnExplodesPrincipledStaysBounded) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({1024, 200});
  const auto icnn = PropagateSignal("icnn_default", x, 1);
  const auto init = PropagateSignal("icnn_init", x, 1);
  // Fig. 1: with He weights clipped to >= 0, means and correlations grow layer by layer.
  EXPECT_GT(icnn.back().mean_sq, 100 * icnn.front().mean_sq);
  EXPECT_GT(icnn.back().mean_correlation, 0.9);
  EXPECT_LT(init.back().mean_sq, 1.0);
  EXPECT_LT(init.back().mean_correlation, icnn.back().mean_correlation);
}

TEST(Sigprop, WritesFiguresAndTable) {
  const std::string dir = common::data::TestDir("sigprop");
  ASSERT_TRUE(WriteSigpropFigures(dir, 0).ok());
  EXPECT_TRUE(common::data::FileExists(dir + "/icnn_init_layer4_corr.png"));
  EXPECT_TRUE(common::data::FileExists(dir + "/nonconvex_layer1_hist.png"));
  const std::string csv = common::data::ReadFileBytes(dir + "/sigprop.csv").value();
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 5 * 4);
}

}  // namespace
}  // namespace icnn
