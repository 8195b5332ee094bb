// The icnn claims' assemble functions on synthetic run directories: the verdict follows the
// numbers across each declared threshold.
#include "icnn/claims.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/report/claim_testing.h"

namespace icnn {
namespace {

using common::report::Verdict;
using common::report::testing::AssembledVerdict;
using common::report::testing::FindClaim;
using common::report::testing::FreshContext;
using common::report::testing::WriteText;

// sigprop.csv of the two ICNN variants: layer-4 correlations and second moments as given.
std::string Sigprop(double default_corr, double default_moment, double init_corr,
                    double init_moment) {
  std::string csv = "variant,layer,mean_sq,variance,mean_correlation\n";
  for (int l = 1; l <= 4; ++l) {
    const bool last = l == 4;
    absl::StrAppend(&csv, "icnn_default,", l, ",0,", last ? default_moment : 1.0, ",",
                    last ? default_corr : 0.5, "\n");
    absl::StrAppend(&csv, "icnn_init,", l, ",0,", last ? init_moment : 1.0, ",",
                    last ? init_corr : 0.5, "\n");
  }
  return csv;
}

TEST(IcnnClaims, SigpropVerdictFollowsCorrelationAndGrowth) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "sigprop");
  const auto ctx = FreshContext(claim);
  const std::string dir = ctx.RunDir("sigprop");
  WriteText(dir + "/icnn_default_layer4_corr.png", "png");
  WriteText(dir + "/icnn_init_layer4_corr.png", "png");
  WriteText(dir + "/sigprop.csv", Sigprop(0.99, 1e4, 0.6, 1.5));
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kReproduced);
  // The principled init's units as correlated as the default's: not reproduced.
  WriteText(dir + "/sigprop.csv", Sigprop(0.99, 1e4, 0.95, 1.5));
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
  // The default's signal does not explode (growth 5 < 10): not reproduced.
  WriteText(dir + "/sigprop.csv", Sigprop(0.99, 5, 0.6, 1.5));
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

void WriteLearnability(const common::report::AssembleContext& ctx, double nonconvex_loss,
                       double icnn_loss, double init_loss, double nonconvex_acc, double init_acc) {
  const std::pair<const char*, std::pair<double, double>> variants[] = {
      {"nonconvex", {nonconvex_loss, nonconvex_acc}},
      {"icnn", {icnn_loss, 0.5}},
      {"icnn_init", {init_loss, init_acc}}};
  for (const auto& [v, la] : variants) {
    const std::string dir = ctx.RunDir(v);
    WriteText(dir + "/summary.json",
              absl::StrCat("{\"", v, "\": {\"final_loss\": ", la.first, ", \"valid_accuracy\": [",
                           la.second, ", ", la.second, "]}}"));
    WriteText(dir + "/curves.csv",
              absl::StrCat("update,", v, "_median,", v, "_q25,", v, "_q75\n1,2.3,2.2,2.4\n2,",
                           la.first, ",", la.first, ",", la.first, "\n"));
  }
}

TEST(IcnnClaims, LearnabilityVerdictFollowsLossRatioAndAccuracyGap) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "init_learnability");
  const auto ctx = FreshContext(claim);
  std::string why;
  WriteLearnability(ctx, 0.30, 0.90, 0.32, 0.88, 0.87);  // ratio 2.8, gap -0.01
  EXPECT_EQ(AssembledVerdict(claim, ctx, &why), Verdict::kReproduced) << why;
  WriteLearnability(ctx, 0.30, 0.40, 0.32, 0.88, 0.87);  // ratio 1.25 < 1.5
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
  WriteLearnability(ctx, 0.30, 0.90, 0.32, 0.88, 0.85);  // gap -0.03 < -0.02
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
  EXPECT_TRUE(std::filesystem::exists(ctx.InReport(ctx.Figure("png"))));
}

TEST(IcnnClaims, ToxIsNotRunWithoutItsData) {
  const std::vector<common::report::Claim> claims = Claims();
  common::report::PlanContext ctx;
  ctx.scale = common::report::Scale::kQuick;
  const common::report::ClaimPlan plan = FindClaim(claims, "tox21").plan(ctx);
  EXPECT_TRUE(plan.runs.empty());
  EXPECT_FALSE(plan.not_run.empty());
  // At the paper scale without --dataset_dirs=mnist the learnability claim says what it needs.
  ctx.scale = common::report::Scale::kPaper;
  EXPECT_EQ(FindClaim(claims, "init_learnability").plan(ctx).not_run,
            "the mnist data is not given (--dataset_dirs=mnist=DIR)");
}

}  // namespace
}  // namespace icnn
