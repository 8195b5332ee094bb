#include "implicit_dl/experiment.h"

#include <torch/torch.h>

#include "common/data/file_bytes.h"
#include "common/data/synthetic.h"
#include "common/train/checkpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace implicit_dl {
namespace {

using ::testing::HasSubstr;

TEST(LoadClassificationData, MnistNormalisationIsTheReferences) {
  const std::string dir = common::data::TestDir("idl_mnist");
  ASSERT_TRUE(common::data::WriteTinyMnistDirectory(dir, 12, 6, /*gz=*/true).ok());
  ClassificationData d = LoadClassificationData("fashion-mnist", dir).value();
  EXPECT_EQ(d.train.inputs().sizes(), torch::IntArrayRef({12, 784}));
  // Pixel (image 2, row 1, col 3) = 7*2 + 3 + 3 = 20 -> 20/255 - 0.5 (Normalize(0.5, 1.0)).
  EXPECT_NEAR(d.train.inputs()[2][28 + 3].item<double>(), 20.0 / 255 - 0.5, 1e-7);
  EXPECT_THAT(std::string(LoadClassificationData("cifar10", dir).status().message()),
              HasSubstr("holds idx files"));
}

TEST(Train, LowersLossAndWritesALoadableRunDirectory) {
  torch::manual_seed(0);
  ClassificationData data{common::data::GaussianBlobs(300, 8, 3, 1),
                          common::data::GaussianBlobs(100, 8, 3, 2), 3};
  TrainConfig c;
  c.n = 12;
  c.epochs = 4;
  c.bs = 30;
  c.lr = 1e-2;
  c.eval_every = 5;
  c.out_dir = common::data::TestDir("idl_train") + "/run";
  TrainResult r = Train(c, data, {{"n", 12}}).value();
  EXPECT_LT(r.last_epoch_train_loss, 0.7 * r.first_epoch_train_loss);
  EXPECT_GT(r.test_accuracy, 0.9);
  EXPECT_EQ(r.steps, 40);
  for (const char* f : {"config.json", "metrics.csv", "summary.json", "checkpoint.pt",
                        "weights.pt", "weights_best.pt"}) {
    EXPECT_TRUE(common::data::FileExists(c.out_dir + "/" + f)) << f;
  }
  // The saved weights reproduce the reported test accuracy.
  ImplicitModel m(ImplicitModelOptions(12, 8, 3));
  ASSERT_TRUE(common::train::LoadStateDict(c.out_dir + "/weights.pt", *m).ok());
  torch::NoGradGuard no_grad;
  const double acc =
      (m->forward(data.test.inputs()).argmax(1) == data.test.targets()).to(torch::kFloat64).mean().item<double>();
  EXPECT_DOUBLE_EQ(acc, r.test_accuracy);
}

TEST(TrainConfig, ValidationNamesTheFlag) {
  TrainConfig c = WithDatasetDefaults(TrainConfig());
  EXPECT_EQ(c.n, 100);
  EXPECT_DOUBLE_EQ(c.lr, 5e-3);
  c.bs = 0;
  EXPECT_THAT(std::string(Validate(c).message()), HasSubstr("--bs must be > 0, got 0"));
  TrainConfig cifar;
  cifar.dataset = "cifar10";
  cifar = WithDatasetDefaults(cifar);
  EXPECT_EQ(cifar.n, 300);
  EXPECT_DOUBLE_EQ(cifar.lr, 5e-4);
  cifar.dataset = "svhn";
  EXPECT_THAT(std::string(Validate(cifar).message()), HasSubstr("--dataset must be"));
}

}  // namespace
}  // namespace implicit_dl
