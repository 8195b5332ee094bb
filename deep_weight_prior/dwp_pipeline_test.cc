#include "deep_weight_prior/dwp_pipeline.h"

#include <sys/stat.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/data/idx.h"
#include "common/data/npy.h"
#include "common/sweep/local_runner.h"
#include "common/testing/runfiles.h"
#include "common/train/fields.h"
#include "common/train/run_dir.h"
#include "deep_weight_prior/experiments.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace deep_weight_prior {
namespace {

using ::testing::HasSubstr;

TEST(Pipeline, SourceAndTargetMustBeDifferentData) {
  PipelineOptions o;
  o.data_dir = "/data/mnist";
  EXPECT_TRUE(ValidateDomains(o).ok());  // classes 0-4 -> 5-9 of one dataset
  o.target_classes = {4, 5, 6};
  EXPECT_THAT(std::string(ValidateDomains(o).message()), HasSubstr("class 4 is in both"));
  o.source_data_dir = "/data/notmnist";  // the paper's setting: all classes on both sides
  o.source_classes = o.target_classes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_TRUE(ValidateDomains(o).ok());
  o.source_data_dir = o.data_dir;  // the same directory named twice
  EXPECT_FALSE(ValidateDomains(o).ok());
  o.source_classes.clear();
  EXPECT_THAT(std::string(ValidateDomains(o).message()), HasSubstr("at least one class"));
}

TEST(Pipeline, OverlappingClassesFailBeforeAnyWork) {
  PipelineOptions o;
  o.data_dir = "/nonexistent";
  o.out_dir = ::testing::TempDir() + "/never_written";
  o.target_classes = {0};
  common::sweep::LocalRunner runner(1);
  EXPECT_THAT(std::string(RunPipeline(o, runner).status().message()),
              HasSubstr("class 0 is in both"));
  EXPECT_FALSE(std::filesystem::exists(o.out_dir));
}

// 28x28 noise images with labels 0-3 in the MNIST layout.
std::string TinyMnist(const std::string& dir) {
  std::filesystem::create_directories(dir);
  torch::manual_seed(0);
  for (const auto& [name, n] : {std::pair<std::string, int64_t>{"train", 80}, {"t10k", 40}}) {
    const torch::Tensor images = torch::randint(256, {n, 28, 28}).to(torch::kUInt8);
    const torch::Tensor labels = torch::arange(n).remainder(4).to(torch::kUInt8);
    EXPECT_TRUE(common::data::WriteIdx(dir + "/" + name + "-images-idx3-ubyte", images).ok());
    EXPECT_TRUE(common::data::WriteIdx(dir + "/" + name + "-labels-idx1-ubyte", labels).ok());
  }
  return dir;
}

PipelineOptions Tiny(const std::string& dir) {
  PipelineOptions o;
  o.data_dir = TinyMnist(dir + "/data"), o.out_dir = dir + "/pipeline";
  o.source_classes = {0, 1}, o.target_classes = {2, 3};
  o.source_nets = 2, o.source_c1 = 5, o.source_c2 = 4, o.source_epochs = 1;
  o.prune_7x7 = o.prune_5x5 = 0;  // keep every kernel
  o.vae_epochs = 1;
  o.target_c1 = 5, o.target_c2 = 4, o.sizes = {8}, o.split_seeds = {0, 1};
  o.bnn_epochs = 2, o.convergence_steps = 2;
  o.worker_binary = common::testing::RunfilesPath("deep_weight_prior/pipeline");
  return o;
}

ino_t Inode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The pipeline with its nets as worker processes: every kernel of every source net collected
// (closed form with pruning off), one row per (size, seed, prior), and a resumed pipeline reruns
// only the few-shot net whose result is gone, with the same numbers.
TEST(Pipeline, WorkersAndResume) {
  const std::string dir = ::testing::TempDir() + "/tiny";
  std::filesystem::remove_all(dir);
  const PipelineOptions o = Tiny(dir);
  common::sweep::LocalRunner runner(2);
  const absl::StatusOr<PipelineResult> r = RunPipeline(o, runner);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kernels_7x7, 2 * 5 * 1);  // nets x conv1 out x in channels
  EXPECT_EQ(r->kernels_5x5, 2 * 4 * 5);  // nets x conv2 out x in channels
  double acc = 0;
  for (int i = 0; i < 2; ++i) {
    acc +=
        common::train::ReadJsonFile(absl::StrCat(o.out_dir, "/source_nets/net", i, "/summary.json"))
            .value()["test_acc"]
            .get<double>() /
        2;
  }
  EXPECT_DOUBLE_EQ(r->source_acc, acc);
  ASSERT_EQ(r->fewshot.size(), 6u);
  EXPECT_EQ(r->fewshot[5].prior, "N(0,1)");
  EXPECT_EQ(r->fewshot[5].split_seed, 1u);
  EXPECT_GT(r->fewshot[5].test_nll, 0);
  // Our VAEs on our held-out kernels: the test split of kernels/, scored as HeldOutFit does.
  ASSERT_EQ(r->vae_fit.size(), 2u);
  for (const VaeFitRow& row : r->vae_fit) {
    EXPECT_EQ(row.vaes, "own");
    const std::string dim = absl::StrCat(row.kernel_dim, "x", row.kernel_dim);
    const torch::Tensor test =
        common::data::ReadNpy(o.out_dir + "/kernels/conv" + dim + "/test.npy").value();
    KernelVae vae = LoadVae(o.out_dir + "/vae" + dim).value();
    EXPECT_EQ(row.count, test.size(0));
    EXPECT_DOUBLE_EQ(row.neg_elbo, HeldOutFit(vae, test, 10, o.seed).value().neg_elbo);
  }
  EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/summary.json"));

  // A fresh start into the directory is refused; --resume of the finished run does nothing.
  EXPECT_THAT(std::string(RunPipeline(o, runner).status().message()),
              HasSubstr("holds another run"));
  EXPECT_TRUE(common::train::IsFinishedRun(RunPipeline(o, runner, true).status()));

  // Lose one few-shot result and the pipeline's summary: --resume reruns that net only.
  const std::string lost = o.out_dir + "/fewshot/sn_n8_split1/summary.json";
  const std::string kept = o.out_dir + "/fewshot/dwp_n8_split0/summary.json";
  const ino_t kept_inode = Inode(kept);
  std::filesystem::remove(lost);
  std::filesystem::remove(o.out_dir + "/summary.json");
  const absl::StatusOr<PipelineResult> again = RunPipeline(o, runner, true);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Inode(kept), kept_inode);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(again->fewshot[i].ens_acc, r->fewshot[i].ens_acc) << i;
    EXPECT_EQ(again->fewshot[i].det_acc, r->fewshot[i].det_acc) << i;
  }
  EXPECT_EQ(again->table_markdown, r->table_markdown);
}

// Released VAEs only (--source_nets=0 --reference_dir): no source nets, the DWP row with the
// given VAEs, their fit on the given held-out kernels; a legacy pickle is one clear error.
TEST(Pipeline, StartsFromGivenVaes) {
  const std::string dir = ::testing::TempDir() + "/given_vaes";
  std::filesystem::remove_all(dir);
  PipelineOptions o = Tiny(dir);
  o.source_nets = 0;
  EXPECT_THAT(std::string(ValidateDomains(o).message()), HasSubstr("--reference_dir"));
  o.reference_dir = dir + "/fconv";
  torch::manual_seed(4);
  for (int64_t k : {7, 5}) {
    const std::string name = absl::StrCat(k, "x", k);
    KernelVae vae(KernelVaeOptions(k, 2, 4));
    ASSERT_TRUE(SaveVae(o.reference_dir + "/vae" + name, vae).ok());
    std::filesystem::create_directories(o.reference_dir + "/conv" + name);
    ASSERT_TRUE(common::data::WriteNpy(o.reference_dir + "/conv" + name + "/test.npy",
                                       0.1 * torch::randn({6 + k, 1, k, k}))
                    .ok());
  }
  common::sweep::LocalRunner runner(2);
  const absl::StatusOr<PipelineResult> r = RunPipeline(o, runner);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(std::filesystem::exists(o.out_dir + "/source_nets"));
  ASSERT_EQ(r->fewshot.size(), 6u);  // 2 split seeds x 3 priors
  EXPECT_EQ(r->fewshot[0].prior, "DWP (released VAEs)");
  EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/fewshot/dwpref_n8_split1/summary.json"));
  ASSERT_EQ(r->vae_fit.size(), 2u);
  EXPECT_EQ(r->vae_fit[0].vaes, "reference");
  EXPECT_EQ(r->vae_fit[0].count, 13);  // the 7x7 test.npy
  EXPECT_EQ(r->vae_fit[1].count, 11);
  EXPECT_THAT(r->table_markdown, HasSubstr("| reference |"));

  // The reference repository's file name (torch_pickle_test reads its legacy format).
  const torch::Tensor before = LoadVae(o.reference_dir + "/vae5x5").value()->parameters()[0];
  std::filesystem::rename(o.reference_dir + "/vae5x5/vae_params.pt",
                          o.reference_dir + "/vae5x5/vae_params.torch");
  const absl::StatusOr<KernelVae> renamed = LoadVae(o.reference_dir + "/vae5x5");
  ASSERT_TRUE(renamed.ok()) << renamed.status();
  EXPECT_TRUE(torch::equal((*renamed)->parameters()[0], before));
}

TEST(Pipeline, AWorkerJobThatIsNoneIsOneError) {
  const std::string dir = ::testing::TempDir() + "/worker_errors";
  std::filesystem::remove_all(dir);
  EXPECT_EQ(RunPipelineWorker(dir, "source_net/0").code(), absl::StatusCode::kNotFound);
  std::filesystem::create_directories(dir);
  const PipelineOptions o = Tiny(dir);
  ASSERT_TRUE(
      common::train::WriteJsonFile(dir + "/config.json", common::train::FieldsToJson(o)).ok());
  EXPECT_THAT(std::string(RunPipelineWorker(dir, "source_net/2").message()),
              HasSubstr("no source net 2"));
  EXPECT_THAT(std::string(RunPipelineWorker(dir, "fewshot/gauss/8/0").message()),
              HasSubstr("no prior gauss"));
  EXPECT_THAT(std::string(RunPipelineWorker(dir, "fewshot/dwp/8").message()),
              HasSubstr("--worker must be source_net/<i> or fewshot/"));
}

}  // namespace
}  // namespace deep_weight_prior
