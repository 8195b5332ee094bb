// The deep_weight_prior claims' assemble functions on a synthetic pipeline directory.
#include "deep_weight_prior/claims.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/report/claim_testing.h"

namespace deep_weight_prior {
namespace {

using common::report::Verdict;
using common::report::testing::AssembledVerdict;
using common::report::testing::FindClaim;
using common::report::testing::FreshContext;
using common::report::testing::WriteText;

// Few-shot rows for N = 50 and 200 over 2 split seeds (seed s adds 0.01 s); the DWP's N = 50
// accuracy as given; with `released`, a DWP row with the released VAEs (0.99) and their fit.
std::string Summary(double dwp_at_50, bool released = false) {
  std::string rows;
  std::vector<std::pair<const char*, double>> priors = {
      {"DWP", dwp_at_50}, {"log-uniform", 0.766}, {"N(0,1)", 0.717}};
  if (released) priors.insert(priors.begin() + 1, {"DWP (released VAEs)", 0.99});
  for (const auto& [prior, acc] : priors) {
    for (int seed = 0; seed < 2; ++seed) {
      for (int n : {50, 200}) {
        absl::StrAppend(&rows, rows.empty() ? "" : ",", "{\"prior\": \"", prior,
                        "\", \"size\": ", n, ", \"split_seed\": ", seed,
                        ", \"ens_acc\": ", (n == 50 ? acc : 0.9) + 0.01 * seed,
                        ", \"det_acc\": 0.5, \"test_nll\": ", 1 + seed, "}");
      }
    }
  }
  const std::string fit =
      released ? ", \"vae_fit\": [{\"vaes\": \"own\", \"kernels\": \"reference\", "
                 "\"kernel_dim\": 7, \"count\": 443, \"neg_elbo\": -40.5}, {\"vaes\": "
                 "\"reference\", \"kernels\": \"reference\", \"kernel_dim\": 7, \"count\": 443, "
                 "\"neg_elbo\": -49.25}]"
               : "";
  return absl::StrCat("{\"source_acc\": 0.9", fit, ", \"fewshot\": [", rows, "]}");
}

TEST(DwpClaims, FewShotDwpMustBeatBothBaselines) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "fewshot");
  const auto ctx = FreshContext(claim);
  WriteText(ctx.SharedRunDir("pipeline") + "/summary.json", Summary(0.80));
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kReproduced);
  WriteText(ctx.SharedRunDir("pipeline") + "/summary.json", Summary(0.74));  // below LU
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

// The released VAEs' row and the VAE fit are shown; the verdict is about our own DWP.
TEST(DwpClaims, FewShotShowsTheReleasedVaesButJudgesOurs) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "fewshot");
  const auto ctx = FreshContext(claim);
  WriteText(ctx.SharedRunDir("pipeline") + "/summary.json", Summary(0.74, /*released=*/true));
  const absl::StatusOr<common::report::Outcome> o = claim.assemble(ctx);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(common::report::VerdictOf(*o), Verdict::kNotReproduced);
  ASSERT_EQ(o->tables.size(), 3u);  // accuracy, NLL, VAE fit
  EXPECT_EQ(o->tables[0].rows[1][0], "DWP (released VAEs)");
  EXPECT_EQ(o->tables[0].rows[1][1], "0.995 ± 0.007");  // seeds 0.99, 1.00 (sample std)
  EXPECT_EQ(o->tables[1].rows[0][1], "1.500 ± 0.707");  // NLL 1, 2
  EXPECT_EQ(o->tables[2].rows[1][0], "reference VAEs");
  EXPECT_EQ(o->tables[2].header[1], "reference 7x7 kernels (443)");
  EXPECT_EQ(o->tables[2].rows[1][1], "-49.25");
}

TEST(DwpClaims, ConvergenceComparesTheEarlyCurves) {
  const std::vector<common::report::Claim> claims = Claims();
  const common::report::Claim& claim = FindClaim(claims, "convergence");
  const auto ctx = FreshContext(claim);
  const std::string dir = ctx.SharedRunDir("pipeline");
  WriteText(dir + "/convergence.png", "png");
  auto write = [&](double vae_early) {
    WriteText(dir + "/convergence.csv",
              absl::StrCat("init,step,test_acc\nvae,20,", vae_early, "\nvae,40,0.9\nvae,60,0.95\n",
                           "xavier,20,0.5\nxavier,40,0.8\nxavier,60,0.95\n"));
  };
  write(0.7);  // early mean 0.8 vs 0.65
  std::string why;
  EXPECT_EQ(AssembledVerdict(claim, ctx, &why), Verdict::kReproduced) << why;
  write(0.3);  // early mean 0.6 vs 0.65
  EXPECT_EQ(AssembledVerdict(claim, ctx), Verdict::kNotReproduced);
}

}  // namespace
}  // namespace deep_weight_prior
