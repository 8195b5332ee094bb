// The implicit_dl claims' assemble functions on synthetic run directories: the verdict follows
// the numbers across each declared threshold.
#include "implicit_dl/claims.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/report/claim_testing.h"

namespace implicit_dl {
namespace {

using common::report::Verdict;
using common::report::testing::AssembledVerdict;
using common::report::testing::FindClaim;
using common::report::testing::FreshContext;
using common::report::testing::WriteText;

// Quick scale: 2 seeds of each model.
void WriteTraining(const common::report::AssembleContext& ctx, double implicit_acc, double ffnn_acc,
                   double max_norm) {
  for (int s = 0; s < 2; ++s) {
    for (const auto& [model, acc] : {std::pair{"implicit", implicit_acc}, {"ffnn", ffnn_acc}}) {
      WriteText(ctx.SharedRunDir(absl::StrCat(model, "_seed", s)) + "/summary.json",
                absl::StrCat("{\"test_acc\": ", acc + 0.001 * s, ", \"test_loss\": 0.4, ",
                             "\"parameters\": 100, \"max_infinity_norm_A\": ", max_norm,
                             ", \"not_converged\": 0, \"steps_this_run\": 1200}"));
    }
  }
}

TEST(ImplicitClaims, AccuracyMatchWithinOnePoint) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "ffnn_match");
  const auto ctx = FreshContext(claim);
  WriteTraining(ctx, 0.845, 0.850, 0.95);  // 0.5 points below: matches
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kReproduced);
  WriteTraining(ctx, 0.835, 0.850, 0.95);  // 1.5 points below
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

TEST(ImplicitClaims, WellPosednessIsTheNormBound) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "well_posedness");
  const auto ctx = FreshContext(claim);
  WriteTraining(ctx, 0.8, 0.8, 0.9500001);  // float rounding of the projection
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kReproduced);
  WriteTraining(ctx, 0.8, 0.8, 0.97);
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

TEST(ImplicitClaims, RobustnessCertificateNeverAboveTheAttack) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "robustness");
  const auto ctx = FreshContext(claim);
  auto write = [&](double certified_at_01) {
    for (const char* m : {"implicit", "ffnn"}) {
      WriteText(ctx.SharedRunDir(absl::StrCat(m, "_seed0")) + "/robustness/summary.json",
                absl::StrCat("{\"curve\": [{\"eps\": 0, \"fgsm_acc\": 0.85, \"noise_acc\": 0.85, "
                             "\"certified_acc\": 0.85}, {\"eps\": 0.1, \"fgsm_acc\": 0.2, "
                             "\"noise_acc\": 0.8, \"certified_acc\": ",
                             certified_at_01, "}]}"));
    }
  };
  write(0.0);
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kReproduced);
  write(0.3);  // a "certificate" above what FGSM achieves: the bound is wrong
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

}  // namespace
}  // namespace implicit_dl
