// The excess_capacity claim's assemble function on synthetic run directories.
#include "excess_capacity/claims.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/report/claim_testing.h"

namespace excess_capacity {
namespace {

using common::report::Verdict;
using common::report::testing::AssembledVerdict;
using common::report::testing::FindClaim;
using common::report::testing::FreshContext;
using common::report::testing::WriteText;

void Write(const common::report::AssembleContext& ctx, const std::string& run, double test_acc,
           const std::string& bound) {
  WriteText(ctx.RunDir(run) + "/summary.json",
            absl::StrCat("{\"train_acc\": 0.95, \"test_acc\": ", test_acc,
                         ", \"lip_network\": 10, \"rademacher_bounds_q05_margin\": ",
                         bound == "null" ? "null" : "{\"thm35_first_paper\": " + bound + "}", "}"));
}

TEST(ExcessCapacityClaims, ConstraintsKeepErrorAndCutTheBound) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "constraints");
  const auto ctx = FreshContext(claim);
  Write(ctx, "unconstrained", 0.90, "100");
  Write(ctx, "lip", 0.90, "50");
  Write(ctx, "dist", 0.90, "50");
  Write(ctx, "lip_dist", 0.89, "20");  // 1 point worse, bound / 5
  std::string why;
  EXPECT_EQ(AssembledVerdict(claim, ctx, &why), Verdict::kReproduced) << why;
  Write(ctx, "lip_dist", 0.87, "20");  // 3 points worse
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
  Write(ctx, "lip_dist", 0.89, "80");  // the bound barely moves
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
  Write(ctx, "lip_dist", 0.89, "null");  // no positive margin: no bound, not a pass
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

}  // namespace
}  // namespace excess_capacity
