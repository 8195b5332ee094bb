#include "common/train/fields.h"

#include "common/train/run_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace common::train {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Config {
  int64_t epochs = 10;
  double lr = 1e-3;
  bool quick = false;
  std::string dir = "runs";
  std::vector<int64_t> sizes = {50, 200};
  std::vector<uint64_t> seeds = {0, 1};
  template <class Visitor>
  void VisitFields(Visitor&& v) {
    v("epochs", epochs);
    v("lr", lr);
    v("quick", quick);
    v("dir", dir);
    v("sizes", sizes);
    v("seeds", seeds);
  }
};

TEST(Fields, JsonRoundTripKeepsEveryField) {
  Config c;
  c.epochs = 3, c.lr = 0.1, c.quick = true, c.dir = "x y", c.sizes = {7}, c.seeds = {5, 6, 7};
  const nlohmann::json j = FieldsToJson(c);
  EXPECT_EQ(j.dump(),
            R"({"dir":"x y","epochs":3,"lr":0.1,"quick":true,"seeds":[5,6,7],"sizes":[7]})");
  const Config back = FieldsFromJson<Config>(j, "c.json").value();
  EXPECT_EQ(FieldsToJson(back), j);
  EXPECT_EQ(back.seeds, c.seeds);
  EXPECT_EQ(back.dir, "x y");
}

TEST(Fields, DifferencesAndBadJsonNameTheField) {
  Config a, b;
  b.lr = 0.5, b.sizes = {1};
  EXPECT_THAT(ConfigDifferences(FieldsToJson(a), FieldsToJson(b)),
              ElementsAre("--lr=0.001 (now 0.5)", "--sizes=[50,200] (now [1])"));
  nlohmann::json j = FieldsToJson(a);
  j.erase("quick");
  EXPECT_EQ(FieldsFromJson<Config>(j, "c.json").status().message(), "c.json: no field 'quick'");
  j = FieldsToJson(a);
  j["sizes"] = "many";
  EXPECT_THAT(std::string(FieldsFromJson<Config>(j, "c.json").status().message()),
              HasSubstr("c.json: field 'sizes' has the wrong type"));
  EXPECT_FALSE(FieldsFromJson<Config>(nlohmann::json::array(), "c.json").ok());
}

}  // namespace
}  // namespace common::train
