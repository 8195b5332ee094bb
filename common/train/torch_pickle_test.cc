#include "common/train/torch_pickle.h"

#include <torch/torch.h>

#include <string>

#include "common/data/file_bytes.h"
#include "common/testing/runfiles.h"
#include "common/train/checkpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::train {
namespace {

using ::testing::HasSubstr;

std::string TestFile(const std::string& name) {
  return common::testing::RunfilesPath("common/train/testdata/" + name);
}

absl::StatusOr<TensorMap> Read(const std::string& name) { return LoadTensorMap(TestFile(name)); }

// The closed forms make_torch_save_files.py wrote, compared exactly.
void ExpectPythonState(const TensorMap& m) {
  EXPECT_EQ(m.size(), 11u);
  EXPECT_TRUE(torch::equal(m.at("0.weight"), torch::arange(6, torch::kFloat).view({2, 3}) * 0.5));
  EXPECT_TRUE(torch::equal(m.at("0.bias"), torch::tensor({-1.0f, 2.0f})));
  EXPECT_TRUE(torch::equal(m.at("1.weight"), torch::ones({2})));
  EXPECT_TRUE(torch::equal(m.at("1.bias"), torch::zeros({2})));
  EXPECT_TRUE(torch::equal(m.at("1.running_mean"), torch::tensor({0.25f, -0.75f})));
  EXPECT_TRUE(torch::equal(m.at("1.running_var"), torch::ones({2})));
  EXPECT_EQ(m.at("1.num_batches_tracked").scalar_type(), torch::kLong);
  EXPECT_EQ(m.at("1.num_batches_tracked").item<int64_t>(), 7);
  const torch::Tensor base = torch::arange(12, torch::kDouble).view({3, 4});
  EXPECT_TRUE(torch::equal(m.at("extra.transposed"), base.t()));
  EXPECT_EQ(m.at("extra.transposed").stride(0), 1);
  EXPECT_TRUE(torch::equal(m.at("extra.row"), base[1]));
  EXPECT_TRUE(torch::equal(m.at("extra.half"), torch::tensor({1.5, -2.0}).to(torch::kHalf)));
  EXPECT_TRUE(torch::equal(m.at("extra.flags"), torch::tensor({true, false, true})));
}

TEST(TorchPickle, ReadsPythonOrderedDictStateDictZip) {
  const absl::StatusOr<TensorMap> m = Read("state_dict_zip.pt");
  ASSERT_TRUE(m.ok()) << m.status();
  ExpectPythonState(*m);
}

TEST(TorchPickle, ReadsPythonLegacyFormat) {
  const absl::StatusOr<TensorMap> m = Read("state_dict_legacy.pt");
  ASSERT_TRUE(m.ok()) << m.status();
  ExpectPythonState(*m);
  // The view and the transposed tensor still share one storage, as in Python.
  EXPECT_EQ(m->at("extra.row").data_ptr<double>() - m->at("extra.transposed").data_ptr<double>(),
            4);
}

TEST(TorchPickle, LoadsIntoAModuleWithPythonNames) {
  torch::nn::Sequential net(torch::nn::Linear(3, 2), torch::nn::BatchNorm1d(2));
  TensorMap m = Read("state_dict_zip.pt").value();
  for (const char* k : {"extra.transposed", "extra.row", "extra.half", "extra.flags"}) m.erase(k);
  ASSERT_TRUE(LoadStateDictInto(m, *net, "state_dict_zip.pt").ok());
  const torch::Tensor y = net[0]->as<torch::nn::Linear>()->forward(torch::ones({1, 3}));
  EXPECT_TRUE(torch::allclose(y, torch::tensor({{0.5f, 8.0f}})));  // 0+.5+1-1, 1.5+2+2.5+2
}

TEST(TorchPickle, RoundTripsOurOwnFiles) {
  const std::string path = ::testing::TempDir() + "/ours.pt";
  const TensorMap saved = {{"a", torch::randn({3, 2})}, {"b", torch::arange(5)}};
  ASSERT_TRUE(SaveTensorMap(path, saved).ok());
  const TensorMap loaded = LoadTensorMap(path).value();
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_TRUE(torch::equal(loaded.at("a"), saved.at("a")));
  EXPECT_TRUE(torch::equal(loaded.at("b"), saved.at("b")));
}

TEST(TorchPickle, NamesWhatItFoundInsteadOfAStateDict) {
  EXPECT_THAT(std::string(Read("whole_module.pt").status().message()),
              HasSubstr("holds a torch.nn.modules.linear.Linear, not a state dict"));
  EXPECT_THAT(std::string(Read("dict_with_int.pt").status().message()),
              HasSubstr("'epoch' holds a int, not a Tensor"));
}

TEST(TorchPickle, CorruptFilesAreOneLineErrors) {
  const std::string good = data::ReadFileBytes(TestFile("state_dict_legacy.pt")).value();
  // Every truncation of the legacy stream and a flipped byte at every position either loads or
  // fails cleanly (never crashes, never reads past the end).
  for (size_t n = 0; n < good.size(); n += 7) {
    const absl::StatusOr<TensorMap> m = ReadTorchSave("cut", good.substr(0, n));
    ASSERT_FALSE(m.ok()) << n;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(std::string(m.status().message()).find('\n'), std::string::npos);
  }
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x5a;
    (void)ReadTorchSave("flipped", bad);
  }
  EXPECT_THAT(std::string(ReadTorchSave("x.pt", "hello").status().message()),
              HasSubstr("x.pt: not a torch.save file"));
  const std::string zip = data::ReadFileBytes(TestFile("state_dict_zip.pt")).value();
  EXPECT_FALSE(ReadTorchSave("cut.pt", zip.substr(0, zip.size() / 2)).ok());
}

}  // namespace
}  // namespace common::train
