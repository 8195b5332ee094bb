// Every claim's plan at every scale, with and without the paper-scale datasets: a claim either
// has runs or says why not; its runs stay inside its own or its paper's shared directory, call a
// binary that //:reproduce carries, and runs that share a directory are the same run.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/report/claim.h"
#include "common/testing/runfiles.h"
#include "deep_weight_prior/claims.h"
#include "excess_capacity/claims.h"
#include "gtest/gtest.h"
#include "icnn/claims.h"
#include "implicit_dl/claims.h"
#include "weightnorm_init/claims.h"

namespace {

using common::report::Claim;
using common::report::ClaimPlan;
using common::report::PlanContext;
using common::report::Scale;

TEST(ReproducePlans, EveryClaimAtEveryScale) {
  std::vector<Claim> all;
  for (auto claims : {implicit_dl::Claims(), icnn::Claims(), weightnorm_init::Claims(),
                      excess_capacity::Claims(), deep_weight_prior::Claims()}) {
    for (auto& c : claims) all.push_back(std::move(c));
  }
  EXPECT_EQ(all.size(), 16u);
  for (Scale scale : {Scale::kSmoke, Scale::kQuick, Scale::kPaper}) {
    for (bool with_data : {false, true}) {
      std::map<std::string, std::vector<std::string>> argv_of_dir;
      int planned = 0;
      for (const Claim& c : all) {
        PlanContext ctx;
        ctx.scale = scale;
        ctx.runs_dir = "/out/runs/" + c.paper + "/" + c.name;
        ctx.shared_dir = "/out/runs/" + c.paper + "/shared";
        ctx.data_dir = "/data/fashion-mnist";
        ctx.binary_dir = common::testing::RunfilesPath("");
        if (with_data) {
          ctx.dataset_dirs = {
              {"mnist", "/d/mnist"}, {"notmnist", "/d/notmnist"}, {"cifar10", "/d/cifar10"}};
        }
        const ClaimPlan plan = c.plan(ctx);
        const std::string where = c.Id() + " at " + ScaleName(scale);
        EXPECT_NE(plan.runs.empty(), plan.not_run.empty()) << where;
        planned += !plan.runs.empty();
        std::set<std::string> names;
        for (const auto& pr : plan.runs) {
          EXPECT_TRUE(names.insert(pr.run.name).second) << where << ": " << pr.run.name;
          EXPECT_TRUE(absl::StartsWith(pr.run.dir, ctx.runs_dir) ||
                      absl::StartsWith(pr.run.dir, ctx.shared_dir))
              << where << ": " << pr.run.dir;
          ASSERT_FALSE(pr.run.argv.empty());
          EXPECT_TRUE(std::filesystem::exists(pr.run.argv[0])) << where << ": " << pr.run.argv[0];
          const auto [it, fresh] = argv_of_dir.emplace(pr.run.dir, pr.run.argv);
          EXPECT_TRUE(fresh || it->second == pr.run.argv) << where << ": " << pr.run.dir;
          // The data comes from --data_dir below the paper scale and --dataset_dirs at it.
          for (const std::string& a : pr.run.argv) {
            if (absl::StartsWith(a, "--data_dir=")) {
              EXPECT_EQ(absl::StartsWith(a, "--data_dir=/d/"), scale == Scale::kPaper) << where;
            }
          }
        }
      }
      // Below the paper scale every claim but the paper-only ones runs; at the paper scale
      // without data none does.
      if (scale != Scale::kPaper) {
        EXPECT_EQ(planned, 13) << ScaleName(scale);
      }
      // sigprop and extrapolation draw their own data.
      if (scale == Scale::kPaper && !with_data) {
        EXPECT_EQ(planned, 2);
      }
    }
  }
}

}  // namespace
