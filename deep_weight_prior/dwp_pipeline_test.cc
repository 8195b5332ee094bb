#include "deep_weight_prior/dwp_pipeline.h"

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
  EXPECT_THAT(std::string(RunPipeline(o).status().message()), HasSubstr("class 0 is in both"));
}

}  // namespace
}  // namespace deep_weight_prior
