#include "weightnorm_init/claims.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/plot/plot.h"
#include "common/report/run_files.h"
#include "common/train/run_dir.h"
#include "common/util/status_macros.h"
#include "weightnorm_init/depth_sweep_experiment.h"

namespace weightnorm_init {
namespace {

using common::report::AssembleContext;
using common::report::Check;
using common::report::Claim;
using common::report::ClaimPlan;
using common::report::Outcome;
using common::report::PlanContext;
using common::report::PlannedRun;
using common::report::Scale;
using common::report::Table;

// ---- Accuracy vs depth of WN-MLPs per initialisation ----

const std::vector<std::string> kDepthInits = {"orthogonal_proposed", "he_datadep", "orthogonal"};

DepthSweepOptions DepthOptions(const std::string& dir, const std::string& train_binary, Scale scale,
                               const std::string& data) {
  DepthSweepOptions o;
  o.train_binary = train_binary;
  o.dir = dir;
  o.inits = kDepthInits;
  o.depths = scale == Scale::kSmoke ? std::vector<int64_t>{2, 5} : o.depths;  // {2, ..., 200}
  o.seeds = scale == Scale::kPaper ? 3 : 1;
  o.train_args = {"--data_dir=" + data, "--lr=0.01",
                  absl::StrCat("--epochs=", scale == Scale::kPaper ? 10 : 1),
                  std::string("--dataset=") + (scale == Scale::kPaper ? "mnist" : "fashion-mnist")};
  if (scale == Scale::kSmoke) o.train_args.push_back("--hidden_size=8");
  return o;
}

ClaimPlan PlanDepth(const PlanContext& ctx) {
  const std::string data = ctx.DataFor("mnist");
  if (data.empty()) return {{}, common::report::NeedsDataset("mnist")};
  ClaimPlan plan;
  for (common::sweep::Run& run :
       PlanDepthSweep(
           DepthOptions(ctx.runs_dir, ctx.Binary("weightnorm_init/train"), ctx.scale, data))
           .runs) {
    plan.runs.push_back({std::move(run)});
  }
  return plan;
}

absl::StatusOr<Outcome> AssembleDepth(const AssembleContext& ctx) {
  const DepthSweepOptions o = DepthOptions(ctx.runs_dir, "", ctx.scale, "");
  ASSIGN_OR_RETURN(const std::vector<DepthResult> results, CollectDepthSweep(o));
  RETURN_IF_ERROR(WriteDepthSweepReport(o, results));
  std::map<std::string, std::map<int64_t, std::vector<double>>> acc;  // init -> depth -> seeds
  for (const DepthResult& r : results) acc[r.run.init][r.run.depth].push_back(r.test_acc);
  Table t{"Test accuracy (mean over seeds) per depth", {"init"}, {}};
  for (int64_t d : o.depths) t.header.push_back(absl::StrCat("depth ", d));
  for (const std::string& init : o.inits) {
    std::vector<std::string> row = {init};
    for (int64_t d : o.depths)
      row.push_back(absl::StrFormat("%.3f", common::report::Mean(acc[init][d])));
    t.rows.push_back(std::move(row));
  }
  auto at = [&](const std::string& init, int64_t d) { return common::report::Mean(acc[init][d]); };
  double proposed_min = INFINITY, datadep_deep = -INFINITY;
  const int64_t shallow = o.depths.front();
  const int64_t deep = o.depths.back(),
                deep2 = o.depths[o.depths.size() >= 2 ? o.depths.size() - 2 : 0];
  for (int64_t d : o.depths) proposed_min = std::min(proposed_min, at("orthogonal_proposed", d));
  datadep_deep = std::max(at("he_datadep", deep), at("he_datadep", deep2));
  Outcome o2;
  o2.measured = absl::StrFormat(
      "proposed (orthogonal): depth %d %.3f, worst depth %.3f, depth %d %.3f; data-dependent (He) "
      "at depth %d / %d: %.3f / %.3f",
      shallow, at("orthogonal_proposed", shallow), proposed_min, deep,
      at("orthogonal_proposed", deep), deep2, deep, at("he_datadep", deep2),
      at("he_datadep", deep));
  // "Proposed stays high at every depth": within 10 points of its shallowest accuracy.
  o2.checks.push_back({"min over depths of acc (proposed) - acc (proposed, shallowest)",
                       proposed_min - at("orthogonal_proposed", shallow), Check::Op::kAtLeast,
                       -0.1});
  // "Data-dependent collapses at the two largest depths": chance level (10 classes) or below 0.2.
  o2.checks.push_back({absl::StrCat("max acc (data-dependent He) at depths ", deep2, ", ", deep),
                       datadep_deep, Check::Op::kAtMost, 0.2});
  o2.tables.push_back(std::move(t));
  ASSIGN_OR_RETURN(std::string fig, ctx.CopyFigure(ctx.runs_dir + "/depth_sweep.png", "png"));
  o2.figures.push_back(fig);
  return o2;
}

// ---- Robustness to learning rate and warmup ----

struct LrSizes {
  int seeds;
  int64_t limit_to, epochs, num_blocks, hidden_size;
};

LrSizes LrAt(Scale s) {
  switch (s) {
    case Scale::kSmoke:
      return {1, 64, 1, 1, 4};
    case Scale::kQuick:
      return {2, 500, 3, 2, 8};  // a WN ResNet-14 of width 8 on 500 images, 3 epochs
    case Scale::kPaper:
      return {20, 0, 3, 0, 0};  // WRN-40-10 on CIFAR-10, 20 seeds, 3 epochs
  }
  return {};
}

const std::vector<double> kLrs = {0.001, 0.005, 0.01, 0.05, 0.1};
// Scheme name -> train flags.
const std::vector<std::pair<std::string, std::vector<std::string>>> kSchemes = {
    {"proposed", {"--init=orthogonal_proposed"}},
    {"hanin", {"--init=orthogonal_proposed", "--init_extra_param=hanin"}},
    {"datadep", {"--init=orthogonal_datadep"}},
    {"default", {"--init=orthogonal"}},
};

std::string LrRunName(const std::string& scheme, double lr, bool warmup, int seed) {
  return absl::StrCat(scheme, "_lr", lr, warmup ? "_warmup" : "", "_seed", seed);
}

ClaimPlan PlanLr(const PlanContext& ctx) {
  const std::string data = ctx.DataFor("cifar10");
  if (data.empty()) return {{}, common::report::NeedsDataset("cifar10")};
  const LrSizes n = LrAt(ctx.scale);
  std::vector<std::string> net;
  if (ctx.scale == Scale::kPaper) {
    net = {"--dataset=cifar10", "--nn=wrn", "--wrn_n=6", "--wrn_k=10", "--momentum=0.9"};
  } else {
    net = {"--dataset=fashion-mnist",
           "--nn=resnet",
           absl::StrCat("--num_blocks=", n.num_blocks),
           absl::StrCat("--hidden_size=", n.hidden_size),
           "--momentum=0.9",
           absl::StrCat("--limit_to=", n.limit_to)};
  }
  ClaimPlan plan;
  for (const auto& [scheme, flags] : kSchemes) {
    for (double lr : kLrs) {
      for (bool warmup : {false, true}) {
        for (int s = 0; s < n.seeds; ++s) {
          const std::string name = LrRunName(scheme, lr, warmup, s);
          const std::string dir = ctx.RunDir(name);
          std::vector<std::string> argv = {ctx.Binary("weightnorm_init/train"),
                                           "--weight_norm",
                                           "--data_dir=" + data,
                                           absl::StrCat("--epochs=", n.epochs),
                                           absl::StrCat("--lr=", lr),
                                           absl::StrCat("--seed=", s + 1),
                                           "--out_dir=" + dir};
          argv.insert(argv.end(), net.begin(), net.end());
          argv.insert(argv.end(), flags.begin(), flags.end());
          if (warmup) argv.insert(argv.end(), {"--warmup_epochs=1", "--warmup_lr=0"});
          plan.runs.push_back({{name, argv, dir, "summary.json", true}});
        }
      }
    }
  }
  return plan;
}

absl::StatusOr<Outcome> AssembleLr(const AssembleContext& ctx) {
  const LrSizes n = LrAt(ctx.scale);
  // scheme -> warmup -> lr index -> share of seeds that did not diverge.
  std::map<std::string, std::map<bool, std::vector<double>>> ok;
  Table t{
      absl::StrCat("% of ", n.seeds, " seeds that train ", n.epochs,
                   " epochs without diverging (loss NaN), lr 0.001 / 0.005 / 0.01 / 0.05 / 0.1"),
      {"scheme", "warmup", "0.001", "0.005", "0.01", "0.05", "0.1"},
      {}};
  for (const auto& [scheme, flags] : kSchemes) {
    for (bool warmup : {false, true}) {
      std::vector<std::string> row = {scheme, warmup ? "yes" : "no"};
      for (double lr : kLrs) {
        int fine = 0;
        for (int s = 0; s < n.seeds; ++s) {
          ASSIGN_OR_RETURN(const nlohmann::json j,
                           common::train::ReadJsonFile(
                               ctx.RunDir(LrRunName(scheme, lr, warmup, s)) + "/summary.json"));
          fine += j.at("diverged").get<bool>() ? 0 : 1;
        }
        ok[scheme][warmup].push_back(100.0 * fine / n.seeds);
        row.push_back(absl::StrFormat("%.0f", ok[scheme][warmup].back()));
      }
      t.rows.push_back(std::move(row));
    }
  }
  // The share over the whole lr grid, per scheme and warmup.
  auto area = [&](const std::string& scheme, bool warmup) {
    return common::report::Mean(ok[scheme][warmup]);
  };
  Outcome o;
  o.measured = absl::StrFormat(
      "mean %% of seeds not diverging over the lr grid, without / with warmup: proposed %.0f / "
      "%.0f, hanin %.0f / %.0f, datadep %.0f / %.0f, default %.0f / %.0f",
      area("proposed", false), area("proposed", true), area("hanin", false), area("hanin", true),
      area("datadep", false), area("datadep", true), area("default", false), area("default", true));
  // "Proposed is the most robust" (with and without warmup), "all schemes benefit from warmup".
  for (bool warmup : {false, true}) {
    double best_other = 0;
    for (const char* s : {"hanin", "datadep", "default"})
      best_other = std::max(best_other, area(s, warmup));
    o.checks.push_back({absl::StrCat("share (proposed) - best share of the others, ",
                                     warmup ? "with" : "without", " warmup"),
                        area("proposed", warmup) - best_other, Check::Op::kAtLeast, 0});
  }
  // The comparison only means something where the lr grid makes some scheme diverge (the paper:
  // data-dependent 20% of the grid without warmup); where nothing diverges it shows nothing.
  double least = INFINITY;
  for (const auto& [scheme, flags] : kSchemes) least = std::min(least, area(scheme, false));
  o.checks.push_back({"lowest share over schemes without warmup (the grid reaches divergence)",
                      least, Check::Op::kAtMost, 90});
  double least_gain = INFINITY;
  for (const auto& [scheme, flags] : kSchemes) {
    least_gain = std::min(least_gain, area(scheme, true) - area(scheme, false));
  }
  o.checks.push_back({"min over schemes of share (warmup) - share (no warmup)", least_gain,
                      Check::Op::kAtLeast, 0});
  o.tables.push_back(std::move(t));
  return o;
}

// ---- The Hessian's spectral norm at initialisation ----

ClaimPlan PlanHessian(const PlanContext& ctx) {
  const std::string data = ctx.DataFor("cifar10");
  if (data.empty()) return {{}, common::report::NeedsDataset("cifar10")};
  const int seeds = ctx.scale == Scale::kSmoke ? 1 : 3;
  std::vector<std::string> net;
  if (ctx.scale == Scale::kPaper) {
    net = {"--dataset=cifar10", "--nn=wrn", "--wrn_n=6", "--wrn_k=10"};
  } else {
    net = {"--dataset=fashion-mnist",
           "--nn=resnet",
           ctx.scale == Scale::kSmoke ? "--num_blocks=1" : "--num_blocks=2",
           ctx.scale == Scale::kSmoke ? "--hidden_size=4" : "--hidden_size=8",
           ctx.scale == Scale::kSmoke ? "--limit_to=64" : "--limit_to=5000",
           "--hessian_iters=20"};
  }
  ClaimPlan plan;
  for (const auto& [scheme, flags] : kSchemes) {
    for (int s = 0; s < seeds; ++s) {
      const std::string name = absl::StrCat(scheme, "_seed", s);
      const std::string dir = ctx.RunDir(name);
      std::vector<std::string> argv = {ctx.Binary("weightnorm_init/train"),
                                       "--hessian",
                                       "--weight_norm",
                                       "--data_dir=" + data,
                                       absl::StrCat("--seed=", s + 1),
                                       "--out_dir=" + dir};
      argv.insert(argv.end(), net.begin(), net.end());
      argv.insert(argv.end(), flags.begin(), flags.end());
      common::sweep::Run run{name, argv, dir};
      run.done_file = "hessian.json";
      plan.runs.push_back({run});
    }
  }
  return plan;
}

absl::StatusOr<Outcome> AssembleHessian(const AssembleContext& ctx) {
  const int seeds = ctx.scale == Scale::kSmoke ? 1 : 3;
  std::map<std::string, std::vector<double>> logs;
  Table t{
      "log |largest Hessian eigenvalue| at initialisation (power iteration), mean ± std over "
      "seeds",
      {"scheme", "log spectral norm"},
      {}};
  for (const auto& [scheme, flags] : kSchemes) {
    for (int s = 0; s < seeds; ++s) {
      ASSIGN_OR_RETURN(const nlohmann::json j,
                       common::train::ReadJsonFile(ctx.RunDir(absl::StrCat(scheme, "_seed", s)) +
                                                   "/hessian.json"));
      logs[scheme].push_back(j.at("log_abs_estimate").get<double>());
    }
    t.rows.push_back({scheme, common::report::MeanStd(logs[scheme], 2)});
  }
  Outcome o;
  o.measured = absl::StrFormat(
      "proposed %s, hanin %s, datadep %s, default %s", common::report::MeanStd(logs["proposed"], 2),
      common::report::MeanStd(logs["hanin"], 2), common::report::MeanStd(logs["datadep"], 2),
      common::report::MeanStd(logs["default"], 2));
  // "Proposed has the smallest Hessian norm (flattest start)".
  for (const char* other : {"hanin", "datadep", "default"}) {
    o.checks.push_back({absl::StrCat("mean log norm (proposed) - mean log norm (", other, ")"),
                        common::report::Mean(logs["proposed"]) - common::report::Mean(logs[other]),
                        Check::Op::kAtMost, 0});
  }
  o.tables.push_back(std::move(t));
  return o;
}

}  // namespace

std::vector<Claim> Claims() {
  std::vector<Claim> claims;
  Claim c;
  c.paper = "weightnorm_init";

  c.name = "depth";
  c.statement =
      "With the proposed initialisation WN-MLPs train at every depth up to 200 layers; with the "
      "data-dependent initialisation they fail to train at depth 100 and 200. Quick scale: "
      "Fashion-MNIST, one epoch, lr 0.01, one seed.";
  c.paper_number =
      "MNIST WN-MLP, depth 2-200: proposed ≈0.97-1.0 at every depth; data-dependent "
      "(He) 0 at depth 100 and 200";
  c.source = "specs/weightnorm_init.md §6.2";
  c.plan = PlanDepth;
  c.assemble = AssembleDepth;
  claims.push_back(c);

  c.name = "lr_warmup";
  c.statement =
      "The proposed initialisation is the most robust to the learning rate: the largest share of "
      "seeds trains without diverging, with and without warmup, and every scheme benefits from "
      "warmup. Quick scale: a WN ResNet-14 (width 8, momentum 0.9) on 500 Fashion-MNIST "
      "images, 3 epochs, 2 seeds.";
  c.paper_number =
      "WRN-40-10, CIFAR-10, 20 seeds, % reaching epoch 3: no warmup proposed "
      "100/100/100/≈80/0, datadep 100/0/0/0/0; warmup proposed 100/100/100/100/≈90";
  c.source = "specs/weightnorm_init.md §6.2";
  c.plan = PlanLr;
  c.assemble = AssembleLr;
  claims.push_back(c);

  c.name = "hessian";
  c.statement =
      "At initialisation the proposed scheme has the smallest Hessian spectral norm "
      "(the flattest start, so larger learning rates are usable). Quick scale: a WN "
      "ResNet-14 (width 8) on 5,000 Fashion-MNIST images, 3 seeds, 20 power iterations.";
  c.paper_number =
      "log spectral norm, WRN-40-10 CIFAR-10: default 4.68, datadep 3.01, "
      "Hanin 7.14, proposed 1.31";
  c.source = "specs/weightnorm_init.md §6.4";
  c.plan = PlanHessian;
  c.assemble = AssembleHessian;
  claims.push_back(c);

  c.name = "batchnorm";
  c.statement =
      "With warmup, WN + proposed init nearly closes the gap to BatchNorm on "
      "ResNet-110 and beats it on CIFAR-100 ResNet-164.";
  c.paper_number =
      "CIFAR-10 ResNet-110: WN + proposed + warmup 6.69 ± 0.11 vs BN 6.61 ± 0.16 % "
      "error";
  c.source = "specs/weightnorm_init.md §6.1";
  common::report::SetNotRun(c, "CIFAR ResNets for 200 epochs: paper scale only",
                            "the paper-scale plan (200-epoch CIFAR ResNets) is not written yet");
  claims.push_back(c);
  return claims;
}

}  // namespace weightnorm_init
