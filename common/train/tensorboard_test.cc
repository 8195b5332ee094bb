#include "common/train/tensorboard.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "common/testing/runfiles.h"
#include "common/train/run_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::train {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

TEST(EventRecord, MaskedCrc32cOfKnownVectors) {
  // CRC-32C check values: "123456789" (the CRC catalogue) and 32 zero bytes (RFC 3720 B.4).
  EXPECT_EQ(MaskedCrc32c("123456789"), Mask(0xE3069283u));
  EXPECT_EQ(MaskedCrc32c(std::string(32, '\0')), Mask(0x8A9136AAu));
}

TEST(EventRecord, FramesThePayload) {
  const std::string r = EventRecord("abc");
  ASSERT_EQ(r.size(), 8u + 4 + 3 + 4);
  EXPECT_EQ(r.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(r.substr(12, 3), "abc");
}

// The independent reader's output for `file` (one JSON object per event value), or an error.
absl::StatusOr<std::vector<nlohmann::json>> ReadWithPython(const std::string& file) {
  const std::string script = common::testing::RunfilesPath("common/train/read_tfevents.py");
  const std::string out = file + ".json";
  const int rc = std::system(
      absl::StrCat(common::testing::Python(), " ", script, " ", file, " > ", out).c_str());
  if (rc != 0) return absl::DataLossError(absl::StrCat("read_tfevents.py exit ", rc));
  std::ifstream in(out);
  std::vector<nlohmann::json> values;
  for (std::string line; std::getline(in, line);) values.push_back(nlohmann::json::parse(line));
  return values;
}

TEST(RunDirEvents, AnIndependentReaderGetsEveryScalarTheConfigAndAHistogram) {
  if (const std::string why =
          common::testing::PythonModuleMissing("google.protobuf", "python3-protobuf");
      !why.empty()) {
    GTEST_SKIP() << why;
  }
  const std::string dir = ::testing::TempDir() + "/events_run";
  std::filesystem::remove_all(dir);
  std::optional<RunDir> run =
      RunDir::Open(dir, {{"lr", "0.1"}, {"seed", "3"}}, RunDirOptions{}).value();
  const std::vector<MetricsRow> rows = {{{"epoch", 1}, {"loss", 2.5}, {"auc", NAN}},
                                        {{"epoch", 2}, {"loss", 1.25}, {"auc", 0.75}},
                                        {{"epoch", 3}, {"loss", 0.1}, {"auc", 0.8}}};
  for (const MetricsRow& row : rows) ASSERT_TRUE(run->AppendMetrics(row, {"auc"}).ok());
  const std::vector<double> margins = {-1, -0.5, 0, 0.25, 2, 3, NAN, INFINITY};  // 6 finite
  ASSERT_TRUE(run->events().AddHistogram("margins", 3, margins, 4).ok());

  ASSERT_THAT(EventFiles(dir), SizeIs(1));
  const std::vector<nlohmann::json> read = ReadWithPython(EventFiles(dir)[0]).value();
  std::map<std::pair<int64_t, std::string>, double> scalars;
  const nlohmann::json* config = nullptr;
  const nlohmann::json* histogram = nullptr;
  for (const nlohmann::json& v : read) {
    if (v.contains("value")) scalars[{v["step"], v["tag"]}] = v["value"];
    if (v.contains("text")) config = &v;
    if (v.contains("histogram")) histogram = &v;
  }
  // Every finite value of every row, at its epoch, as float32; the undefined AUC left out.
  EXPECT_EQ(scalars.size(), 5u);
  for (const MetricsRow& row : rows) {
    const int64_t step = static_cast<int64_t>(row[0].second);
    for (size_t c = 1; c < row.size(); ++c) {
      if (std::isnan(row[c].second)) {
        EXPECT_EQ(scalars.count({step, row[c].first}), 0u);
      } else {
        EXPECT_EQ(scalars.at({step, row[c].first}), static_cast<float>(row[c].second));
      }
    }
  }
  ASSERT_NE(config, nullptr);
  EXPECT_EQ((*config)["plugin"], "text");
  EXPECT_THAT((*config)["text"].get<std::string>(), HasSubstr("| seed | 3 |"));
  ASSERT_NE(histogram, nullptr);
  const nlohmann::json& h = (*histogram)["histogram"];
  EXPECT_EQ(h["num"], 6);
  EXPECT_EQ(h["sum"], 3.75);
  EXPECT_EQ(h["min"], -1);
  EXPECT_EQ(h["max"], 3);
  // Width 1 buckets over [-1, 3]: (-1, -0.5] {-1, -0.5}, 0 and 0.25, none, 2 and 3.
  EXPECT_EQ(h["bucket"], nlohmann::json({2, 2, 0, 2}));
  EXPECT_EQ(h["bucket_limit"], nlohmann::json({0, 1, 2, 3}));

  // A resume that drops epochs 2 and 3 leaves one event file holding epoch 1 only.
  run.reset();  // the killed run's lock
  run = RunDir::Open(dir, {{"lr", "0.1"}, {"seed", "3"}}, RunDirOptions{.resume = true}).value();
  ASSERT_TRUE(run->TruncateMetrics("epoch", 1).ok());
  ASSERT_THAT(EventFiles(dir), SizeIs(1));
  int scalars_after = 0;
  const std::vector<nlohmann::json> after = ReadWithPython(EventFiles(dir)[0]).value();
  for (const nlohmann::json& v : after) {
    if (v.contains("value")) {
      ++scalars_after;
      EXPECT_EQ(v["step"], 1);
    }
  }
  EXPECT_EQ(scalars_after, 1);

  // The reader checks the CRCs: one flipped byte is an error.
  std::string bytes = data::ReadFileBytes(EventFiles(dir)[0]).value();
  bytes[bytes.size() - 7] ^= 1;
  ASSERT_TRUE(data::WriteFileAtomically(EventFiles(dir)[0], bytes).ok());
  EXPECT_FALSE(ReadWithPython(EventFiles(dir)[0]).ok());
}

}  // namespace
}  // namespace common::train
