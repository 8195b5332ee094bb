// The weightnorm_init claims' assemble functions on synthetic run directories.
#include "weightnorm_init/claims.h"

#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/report/claim_testing.h"

namespace weightnorm_init {
namespace {

using common::report::Verdict;
using common::report::testing::AssembledVerdict;
using common::report::testing::FindClaim;
using common::report::testing::FreshContext;
using common::report::testing::WriteText;

const char* const kSchemes[] = {"proposed", "hanin", "datadep", "default"};

TEST(WeightnormClaims, HessianProposedMustBeFlattest) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "hessian");
  const auto ctx = FreshContext(claim);
  auto write = [&](double proposed_log) {
    const std::map<std::string, double> log = {
        {"proposed", proposed_log}, {"hanin", 7.1}, {"datadep", 3.0}, {"default", 4.7}};
    for (const char* s : kSchemes) {
      for (int seed = 0; seed < 3; ++seed) {
        WriteText(ctx.RunDir(absl::StrCat(s, "_seed", seed)) + "/hessian.json",
                  absl::StrCat("{\"log_abs_estimate\": ", log.at(s) + 0.01 * seed, "}"));
      }
    }
  };
  write(1.3);  // the paper's table
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kReproduced);
  write(3.5);  // above data-dependent
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

TEST(WeightnormClaims, LrWarmupNeedsProposedMostRobustAndWarmupHelping) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "lr_warmup");
  const auto ctx = FreshContext(claim);
  // Learning rates 0.001 ... 0.1 (index 0..4); a scheme diverges from index `from` on, warmup
  // shifts that by `shift`.
  auto write = [&](std::map<std::string, int> from, int shift) {
    const double lrs[] = {0.001, 0.005, 0.01, 0.05, 0.1};
    for (const char* s : kSchemes) {
      for (int i = 0; i < 5; ++i) {
        for (bool warmup : {false, true}) {
          for (int seed = 0; seed < 2; ++seed) {
            const bool diverged = i >= from[s] + (warmup ? shift : 0);
            WriteText(
                ctx.RunDir(absl::StrCat(s, "_lr", lrs[i], warmup ? "_warmup" : "", "_seed", seed)) +
                    "/summary.json",
                absl::StrCat("{\"diverged\": ", diverged ? "true" : "false", "}"));
          }
        }
      }
    }
  };
  write({{"proposed", 4}, {"hanin", 2}, {"datadep", 1}, {"default", 0}}, 1);  // the paper's shape
  std::string why;
  EXPECT_EQ(AssembledVerdict(claim, ctx, &why), Verdict::kReproduced) << why;
  write({{"proposed", 2}, {"hanin", 3}, {"datadep", 1}, {"default", 0}}, 1);  // Hanin more robust
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
  write({{"proposed", 4}, {"hanin", 2}, {"datadep", 1}, {"default", 0}}, -1);  // warmup hurts
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

}  // namespace
}  // namespace weightnorm_init
