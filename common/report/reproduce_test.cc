#include "common/report/reproduce.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sweep/local_runner.h"
#include "common/sweep/sweep_testing.h"

namespace common::report {
namespace {

using sweep::testing::CountLines;
using sweep::testing::FreshDir;
using sweep::testing::ProbePath;
using sweep::testing::ReadAll;

PlannedRun ProbeRun(const PlanContext& ctx, const std::string& name, int seed, int phase = 0,
                    bool fail = false) {
  const std::string dir = ctx.RunDir(name);
  std::vector<std::string> argv = {ProbePath(), absl::StrCat("--seed=", seed), "--out_dir=" + dir};
  if (fail) argv.push_back("--fail");
  return {{name, argv, dir}, phase};
}

double Value(const std::string& run_dir) {
  return nlohmann::json::parse(ReadAll(run_dir + "/summary.json"))["value"].get<double>();
}

// A claim over `seeds` probe runs: the mean of their values (each a sum of 1000 uniforms, so
// near 500) against `threshold`.
Claim ProbeClaim(const std::string& paper, const std::string& name, std::vector<int> seeds,
                 double threshold, bool fail_last = false) {
  Claim c;
  c.paper = paper;
  c.name = name;
  c.statement = "the probe's mean value is large";
  c.paper_number = absl::StrCat(">= ", threshold);
  c.source = "test";
  c.plan = [=](const PlanContext& ctx) {
    ClaimPlan plan;
    for (size_t i = 0; i < seeds.size(); ++i) {
      plan.runs.push_back(ProbeRun(ctx, absl::StrCat("seed", seeds[i]), seeds[i], 0,
                                   fail_last && i + 1 == seeds.size()));
    }
    return plan;
  };
  c.assemble = [=](const AssembleContext& ctx) -> absl::StatusOr<Outcome> {
    double sum = 0;
    for (int s : seeds) sum += Value(ctx.RunDir(absl::StrCat("seed", s)));
    Outcome o;
    o.measured = absl::StrCat(sum / seeds.size());
    o.checks.push_back({"mean value", sum / seeds.size(), Check::Op::kAtLeast, threshold});
    return o;
  };
  return c;
}

std::vector<Claim> TestClaims() {
  std::vector<Claim> claims = {ProbeClaim("p1", "passes", {0, 1, 2}, 400),
                               ProbeClaim("p1", "fails", {3}, 600),
                               ProbeClaim("p2", "broken", {4, 5}, 400, /*fail_last=*/true)};
  // Phase 1 starts only after phase 0 has finished; it never starts when phase 0 failed.
  Claim phased = ProbeClaim("p2", "phased", {6}, 400);
  phased.plan = [](const PlanContext& ctx) {
    return ClaimPlan{{ProbeRun(ctx, "train", 6), ProbeRun(ctx, "seed6", 7, /*phase=*/1)}};
  };
  claims.push_back(phased);
  Claim blocked = phased;
  blocked.name = "blocked";
  blocked.plan = [](const PlanContext& ctx) {
    return ClaimPlan{{ProbeRun(ctx, "train", 8, 0, /*fail=*/true), ProbeRun(ctx, "seed6", 9, 1)}};
  };
  claims.push_back(blocked);
  Claim absent = ProbeClaim("p2", "absent", {}, 0);
  absent.plan = [](const PlanContext&) { return ClaimPlan{{}, "data not on this machine"}; };
  claims.push_back(absent);
  return claims;
}

ReproduceOptions Options(const std::string& out_dir) {
  ReproduceOptions o;
  o.scale = Scale::kSmoke;
  o.out_dir = out_dir;
  o.rerun_prefix = "reproduce --scale=smoke";
  return o;
}

TEST(ReproduceTest, RunsAssemblesReportsAndReusesFinishedRuns) {
  const std::string out = FreshDir("reproduce");
  const std::vector<Claim> claims = TestClaims();
  sweep::LocalRunner runner(2);
  absl::StatusOr<std::vector<ClaimResult>> results = RunReproduce(claims, Options(out), runner);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 6u);
  std::map<std::string, const ClaimResult*> by_id;
  for (const ClaimResult& r : *results) by_id[r.claim->Id()] = &r;
  EXPECT_EQ(by_id["p1.passes"]->verdict, Verdict::kReproduced);
  EXPECT_EQ(by_id["p1.fails"]->verdict, Verdict::kNotReproduced);
  EXPECT_EQ(by_id["p2.broken"]->verdict, Verdict::kNotRun);
  EXPECT_TRUE(absl::StrContains(by_id["p2.broken"]->outcome.not_run,
                                "1 of 2 runs unfinished, e.g. p2.broken/seed5 failed (see "
                                "runs/p2/broken/seed5/log.txt)"))
      << by_id["p2.broken"]->outcome.not_run;
  EXPECT_EQ(by_id["p2.phased"]->verdict, Verdict::kReproduced);
  EXPECT_EQ(by_id["p2.blocked"]->verdict, Verdict::kNotRun);
  EXPECT_FALSE(std::filesystem::exists(out + "/runs/p2/blocked/seed6"));
  EXPECT_EQ(by_id["p2.absent"]->outcome.not_run, "data not on this machine");
  EXPECT_EQ(by_id["p1.passes"]->rerun_command, "reproduce --scale=smoke --claims=p1.passes");
  EXPECT_EQ(by_id["p1.passes"]->run_dirs,
            (std::vector<std::string>{"runs/p1/passes/seed0", "runs/p1/passes/seed1",
                                      "runs/p1/passes/seed2"}));
  // Phase 1 started after phase 0 ended.
  EXPECT_LE(std::filesystem::last_write_time(out + "/runs/p2/phased/train/summary.json"),
            std::filesystem::last_write_time(out + "/runs/p2/phased/seed6/attempts"));
  const std::string md = ReadAll(out + "/report.md");
  EXPECT_TRUE(absl::StrContains(md, "**Not reproduced: p1.fails.**"));
  EXPECT_TRUE(std::filesystem::exists(out + "/index.html"));

  // Again: finished runs are reused, the failed ones tried once more.
  results = RunReproduce(claims, Options(out), runner);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(CountLines(out + "/runs/p1/passes/seed0/attempts"), 1);
  EXPECT_EQ(CountLines(out + "/runs/p2/phased/seed6/attempts"), 1);
  EXPECT_EQ(CountLines(out + "/runs/p2/broken/seed5/attempts"), 2);
}

TEST(ReproduceTest, AnotherReproducesRunsAreRefused) {
  const std::string out = FreshDir("reproduce_other");
  const std::vector<Claim> claims = {ProbeClaim("p1", "passes", {0}, 400)};
  sweep::LocalRunner runner(1);
  ASSERT_TRUE(RunReproduce(claims, Options(out), runner).ok());
  // The same directory, the same run name, other arguments (here: another seed).
  const std::vector<Claim> other = {ProbeClaim("p1", "passes", {0}, 400)};
  std::vector<Claim> changed = other;
  changed[0].plan = [](const PlanContext& ctx) {
    PlannedRun r = ProbeRun(ctx, "seed0", 42);
    return ClaimPlan{{r}};
  };
  const absl::StatusOr<std::vector<ClaimResult>> again =
      RunReproduce(changed, Options(out), runner);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(absl::StrContains(again.status().message(), "--seed=42")) << again.status();
}

// Two claims that plan the same shared run (same directory, same arguments) run it once; the
// same directory with other arguments is an error.
TEST(ReproduceTest, SharedRunsRunOnce) {
  const std::string out = FreshDir("reproduce_shared");
  auto shared = [](int seed) {
    Claim c = ProbeClaim("p1", "a", {}, 400);
    c.plan = [seed](const PlanContext& ctx) {
      const std::string dir = ctx.SharedRunDir("train");
      return ClaimPlan{
          {{{"train", {ProbePath(), absl::StrCat("--seed=", seed), "--out_dir=" + dir}, dir}}}};
    };
    c.assemble = [](const AssembleContext& ctx) -> absl::StatusOr<Outcome> {
      Outcome o;
      o.measured = "shared";
      o.checks.push_back({"value", Value(ctx.SharedRunDir("train")), Check::Op::kAtLeast, 400});
      return o;
    };
    return c;
  };
  std::vector<Claim> claims = {shared(1), shared(1)};
  claims[1].name = "b";
  sweep::LocalRunner runner(2);
  const absl::StatusOr<std::vector<ClaimResult>> results =
      RunReproduce(claims, Options(out), runner);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ((*results)[0].verdict, Verdict::kReproduced);
  EXPECT_EQ((*results)[1].verdict, Verdict::kReproduced);
  EXPECT_EQ(CountLines(out + "/runs/p1/shared/train/attempts"), 1);

  claims[1] = shared(2);
  claims[1].name = "b";
  const auto clash = RunReproduce(claims, Options(FreshDir("reproduce_clash")), runner);
  ASSERT_FALSE(clash.ok());
  EXPECT_TRUE(absl::StrContains(clash.status().message(), "with other arguments"))
      << clash.status();
}

TEST(SelectClaimsTest, FiltersAndNamesUnknownOnes) {
  const std::vector<Claim> claims = TestClaims();
  auto ids = [](const std::vector<const Claim*>& cs) {
    std::vector<std::string> out;
    for (const Claim* c : cs) out.push_back(c->Id());
    return out;
  };
  EXPECT_EQ(ids(*SelectClaims(claims, {"p1"}, {})),
            (std::vector<std::string>{"p1.passes", "p1.fails"}));
  EXPECT_EQ(ids(*SelectClaims(claims, {}, {"p2.phased", "fails"})),
            (std::vector<std::string>{"p1.fails", "p2.phased"}));
  EXPECT_EQ(SelectClaims(claims, {}, {}).value().size(), 6u);
  const auto bad_paper = SelectClaims(claims, {"p3"}, {});
  EXPECT_TRUE(
      absl::StrContains(bad_paper.status().message(), "--papers: no paper 'p3'; known: p1,p2"));
  const auto bad_claim = SelectClaims(claims, {}, {"p1.nope"});
  EXPECT_TRUE(absl::StrContains(bad_claim.status().message(), "--claims: no claim 'p1.nope'"));
  EXPECT_FALSE(SelectClaims(claims, {"p1"}, {"p2.phased"}).ok());
}

}  // namespace
}  // namespace common::report
