#include "icnn/grid_search.h"

#include <torch/torch.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace icnn {
namespace {

TEST(Whitening, PcaAndZcaGiveIdentityCovariance) {
  torch::manual_seed(0);
  const torch::Tensor mix = torch::randn({4, 4});
  const torch::Tensor x = torch::randn({20000, 4}).mm(mix) + 3;
  for (const char* kind : {"pca", "zca"}) {
    const Whitening w = FitWhitening(x, kind, /*eps=*/1e-9).value();
    const torch::Tensor y = ApplyWhitening(w, x).to(torch::kDouble);
    const torch::Tensor cov = (y - y.mean(0)).t().mm(y - y.mean(0)) / y.size(0);
    EXPECT_TRUE(torch::allclose(cov, torch::eye(4, torch::kDouble), 1e-3, 1e-3)) << kind << cov;
  }
  // ZCA is the whitening closest to the identity: a symmetric transform.
  const Whitening zca = FitWhitening(x, "zca", 1e-9).value();
  EXPECT_TRUE(torch::allclose(zca.transform, zca.transform.t(), 1e-4, 1e-5));
  const Whitening normal = FitWhitening(x, "normal").value();
  EXPECT_NEAR(ApplyWhitening(normal, x).mean().item<double>(), 0.0, 1e-4);
  EXPECT_FALSE(FitWhitening(x, "pcb").ok());
}

TEST(SearchGrid, TheReferenceGridAndItsNumbering) {
  const auto full = SearchGrid("full").value();
  ASSERT_EQ(full.size(), 180u);
  EXPECT_EQ(full.front().id, 18);
  // The spec's decoded ids: 071 = normal, lr 1e-4, wd 1e-2, (1000, 10000); 052 = (1e-3, 1e-2,
  // (10000, 1000)).
  const SearchConfig& c71 = full[71 - 18];
  EXPECT_EQ(c71.pre_process, "normal");
  EXPECT_DOUBLE_EQ(c71.lr, 1e-4);
  EXPECT_DOUBLE_EQ(c71.weight_decay, 1e-2);
  EXPECT_EQ(c71.hidden, (std::vector<int64_t>{1000, 10000}));
  EXPECT_EQ(full[52 - 18].hidden, (std::vector<int64_t>{10000, 1000}));
  EXPECT_EQ(full[107 - 18].pre_process, "pca");  // CIFAR nn's best: a pca configuration
  EXPECT_EQ(SearchGrid("small").value().size(), 8u);
}

TEST(SearchModel, NamesMapToTheReferenceModels) {
  const IcnnOptions ours = SearchModel("ours", 10, 3, {5, 4}).value();
  EXPECT_EQ(ours.positivity(), Positivity::kLazyClip);
  EXPECT_EQ(ours.init(), InitScheme::kPrincipled);
  EXPECT_TRUE(SearchModel("skip", 10, 3, {5}).value().skip());
  EXPECT_EQ(SearchModel("exp2", 10, 3, {5}).value().positivity(), Positivity::kExp);
  IcnnMlp net(ours);
  ASSERT_EQ(net->convex.size(), 3u);  // D x D first layer, then 10 -> 5 -> 4 -> 3
  EXPECT_EQ(net->convex[0]->weight.sizes(), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(net->forward(torch::randn({2, 10})).sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_FALSE(SearchModel("resnet", 10, 3, {5}).ok());
}

TEST(SearchRun, LearnsASeparableProblem) {
  torch::manual_seed(1);
  SearchData d;
  d.train_x = torch::rand({600, 8});
  d.train_y = (d.train_x.select(1, 0) > 0.5).to(torch::kInt64);
  d.test_x = torch::rand({200, 8});
  d.test_y = (d.test_x.select(1, 0) > 0.5).to(torch::kInt64);
  d.classes = 2;
  const SearchConfig c{18, "zca", 1e-2, 0, {16}};
  SearchRunOptions o;
  o.epochs = 8, o.bs = 32;
  const Curve search = SearchRun("ours", c, d, o).value();
  ASSERT_EQ(search.accuracy.size(), 8u);
  EXPECT_GT(search.best_accuracy, 0.9);
  EXPECT_GE(search.best_epoch, 1);
  const Curve test = RetrainRun("nn", c, d, o).value();
  EXPECT_GT(test.accuracy.back(), 0.9);
}

}  // namespace
}  // namespace icnn
