#include "icnn/tox21_experiment.h"

#include <torch/torch.h>

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace icnn {
namespace {

using ::testing::HasSubstr;

// Alkanes, alcohols and amines of growing length; every assay label is "has an oxygen".
Tox21Data Molecules() {
  std::string csv =
      "NR-AR,NR-AR-LBD,NR-AhR,NR-Aromatase,NR-ER,NR-ER-LBD,NR-PPAR-gamma,SR-ARE,SR-ATAD5,SR-HSE,"
      "SR-MMP,SR-p53,mol_id,smiles\n";
  for (int k = 1; k <= 30; ++k) {
    const std::string chain(k, 'C');
    for (const auto& [suffix, label] : {std::pair{"", "0"}, {"O", "1"}, {"N", "0"}}) {
      std::string row;
      for (int t = 0; t < 12; ++t) row += std::string(label) + ",";
      csv += row + "M," + chain + suffix + "\n";
    }
  }
  return ParseTox21Csv(csv, "synthetic.csv", 256).value();
}

TEST(RunTox21, LearnsASimpleSubstructureRuleForEveryModel) {
  const Tox21Data data = Molecules();
  for (const std::string model : {"fc", "icnn", "convex", "logreg"}) {
    Tox21Config c;
    c.model = model;
    c.epochs = 60;
    c.bs = 32;
    c.lr = 3e-3;
    c.runs = 2;
    const Tox21Result r = RunTox21(c, data).value();
    ASSERT_EQ(r.test_auc.size(), 2u);
    EXPECT_GT(r.test_auc[0][0], 0.9) << model;
  }
  EXPECT_THAT(Tox21Table({{{0.8, 0.9, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, NAN}}}),
              HasSubstr("80.0 ± 0.0"));
}

TEST(Tox21Summary, MediansOverRunsSkipUndefinedAucs) {
  std::vector<double> a(kTox21Tasks, 0.8), b(kTox21Tasks, 0.6), c(kTox21Tasks, 0.7);
  a[11] = b[11] = c[11] = NAN;
  b[0] = 0.9;
  const nlohmann::json s = Tox21Summary({{a, b, c}});
  EXPECT_EQ(s["runs"], 3);
  EXPECT_DOUBLE_EQ(s["median_test_auc_per_task"][0].get<double>(), 0.8);  // of 0.8, 0.9, 0.7
  EXPECT_DOUBLE_EQ(s["median_test_auc_per_task"][1].get<double>(), 0.7);  // of 0.8, 0.6, 0.7
  EXPECT_TRUE(s["median_test_auc_per_task"][11].is_null());
  // Run averages over the 11 defined tasks: 0.8, (0.9 + 10 * 0.6) / 11, 0.7.
  EXPECT_NEAR(s["median_average_test_auc"].get<double>(), 0.7, 1e-12);
}

TEST(RunTox21, BadConfigIsAClearError) {
  Tox21Config c;
  c.model = "gnn";
  EXPECT_THAT(std::string(Validate(c).message()),
              HasSubstr("--model must be fc, icnn, convex or logreg"));
}

}  // namespace
}  // namespace icnn
