#include "common/report/reproduce.h"

#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/file_bytes.h"
#include "common/util/interrupt.h"
#include "common/util/status_macros.h"

namespace common::report {
namespace {

std::string RelativeTo(const std::string& base, const std::string& path) {
  const std::string prefix = base + "/";
  return absl::StartsWith(path, prefix) ? path.substr(prefix.size()) : path;
}

std::string Machine() {
  utsname u{};
  uname(&u);
  return absl::StrCat(std::max(1u, std::thread::hardware_concurrency()), " cores, ", u.sysname, " ",
                      u.machine);
}

std::string Today() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

struct PlannedClaim {
  const Claim* claim;
  ClaimPlan plan;
  std::string runs_dir;
  std::string shared_dir;
};

// Why the plan's runs of the phases before `before_phase` have not all finished, or "".
std::string UnfinishedReason(const ClaimPlan& plan, int before_phase, const std::string& out_dir) {
  int unfinished = 0, total = 0;
  std::string first;
  for (const PlannedRun& pr : plan.runs) {
    if (pr.phase >= before_phase) continue;
    ++total;
    const sweep::RunState state = sweep::StateOf(pr.run);
    if (state == sweep::RunState::kFinished) continue;
    if (unfinished++ == 0) {
      first = absl::StrCat(pr.run.name, " ", sweep::RunStateName(state), " (see ",
                           RelativeTo(out_dir, sweep::LogPath(pr.run)), ")");
    }
  }
  if (unfinished == 0) return "";
  return absl::StrCat(unfinished, " of ", total, " runs unfinished, e.g. ", first);
}

}  // namespace

absl::StatusOr<std::vector<const Claim*>> SelectClaims(const std::vector<Claim>& all,
                                                       const std::vector<std::string>& papers,
                                                       const std::vector<std::string>& claims) {
  std::vector<std::string> known_papers, known_claims;
  for (const Claim& c : all) {
    if (std::find(known_papers.begin(), known_papers.end(), c.paper) == known_papers.end())
      known_papers.push_back(c.paper);
    known_claims.push_back(c.Id());
  }
  for (const std::string& p : papers) {
    if (std::find(known_papers.begin(), known_papers.end(), p) == known_papers.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--papers: no paper '", p, "'; known: ", absl::StrJoin(known_papers, ",")));
    }
  }
  for (const std::string& id : claims) {
    const bool found = std::any_of(all.begin(), all.end(),
                                   [&](const Claim& c) { return c.Id() == id || c.name == id; });
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("--claims: no claim '", id, "'; known: ", absl::StrJoin(known_claims, ",")));
    }
  }
  std::vector<const Claim*> out;
  for (const Claim& c : all) {
    const bool paper_ok =
        papers.empty() || std::find(papers.begin(), papers.end(), c.paper) != papers.end();
    const bool claim_ok =
        claims.empty() || std::any_of(claims.begin(), claims.end(),
                                      [&](auto& id) { return c.Id() == id || c.name == id; });
    if (paper_ok && claim_ok) out.push_back(&c);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError("--papers and --claims together select no claim");
  }
  return out;
}

absl::StatusOr<std::vector<ClaimResult>> RunReproduce(const std::vector<Claim>& all,
                                                      const ReproduceOptions& options,
                                                      sweep::Runner& runner) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(std::vector<const Claim*> selected,
                   SelectClaims(all, options.papers, options.claims));
  RETURN_IF_ERROR(data::MakeDirs(options.out_dir));

  // Plan every claim; the sweep's run names are "<paper>.<claim>/<run>".
  std::vector<PlannedClaim> planned;
  int phases = 0;
  for (const Claim* c : selected) {
    PlanContext ctx;
    ctx.scale = options.scale;
    ctx.runs_dir = absl::StrCat(options.out_dir, "/runs/", c->paper, "/", c->name);
    ctx.shared_dir = absl::StrCat(options.out_dir, "/runs/", c->paper, "/shared");
    ctx.data_dir = options.data_dir;
    ctx.dataset_dirs = options.dataset_dirs;
    ctx.binary_dir = options.binary_dir;
    PlannedClaim pc{c, c->plan(ctx), ctx.runs_dir, ctx.shared_dir};
    for (PlannedRun& pr : pc.plan.runs) {
      pr.run.name = absl::StrCat(c->Id(), "/", pr.run.name);
      phases = std::max(phases, pr.phase + 1);
    }
    planned.push_back(std::move(pc));
  }

  // Distinct runs (shared ones count once), and those already finished.
  std::set<std::string> dirs;
  int reused = 0;
  for (const PlannedClaim& pc : planned) {
    for (const PlannedRun& pr : pc.plan.runs) {
      if (dirs.insert(pr.run.dir).second) {
        reused += sweep::StateOf(pr.run) == sweep::RunState::kFinished;
      }
    }
  }
  const int runs = static_cast<int>(dirs.size());

  // Run phase by phase; a claim whose earlier phase did not finish does not start its later one.
  absl::Status interrupted;
  for (int phase = 0; phase < phases && interrupted.ok(); ++phase) {
    sweep::Sweep sweep{options.out_dir, {}};
    std::map<std::string, const sweep::Run*> by_dir;  // runs shared by claims run once
    for (const PlannedClaim& pc : planned) {
      if (!UnfinishedReason(pc.plan, phase, options.out_dir).empty()) continue;
      for (const PlannedRun& pr : pc.plan.runs) {
        if (pr.phase != phase) continue;
        const auto [it, fresh] = by_dir.emplace(pr.run.dir, &pr.run);
        if (fresh) {
          sweep.runs.push_back(pr.run);
        } else if (it->second->argv != pr.run.argv) {
          return absl::InternalError(absl::StrCat("runs ", it->second->name, " and ", pr.run.name,
                                                  " share the directory ", pr.run.dir,
                                                  " with other arguments"));
        }
      }
    }
    if (sweep.runs.empty()) continue;
    std::printf("reproduce: phase %d/%d, %zu runs (%zu claims, %s scale)\n", phase + 1, phases,
                sweep.runs.size(), planned.size(), ScaleName(options.scale));
    std::fflush(stdout);
    // Another reproduce's finished runs in --out_dir (other scale or data) are an error, not a
    // mix of two reports.
    RETURN_IF_ERROR(sweep::Validate(sweep));
    RETURN_IF_ERROR(sweep::CheckArguments(sweep));
    const absl::Status status = runner.Execute(sweep);
    if (util::IsInterrupted(status)) {
      interrupted = status;
    } else if (!status.ok()) {
      std::printf("reproduce: %s\n", std::string(status.message()).c_str());
    }
  }

  // Assemble every claim whose runs have all finished.
  RETURN_IF_ERROR(data::MakeDirs(options.out_dir + "/figures"));
  std::vector<ClaimResult> results;
  for (const PlannedClaim& pc : planned) {
    ClaimResult r;
    r.claim = pc.claim;
    r.rerun_command = absl::StrCat(options.rerun_prefix, " --claims=", pc.claim->Id());
    // Up to 6 runs are linked one by one, more through the claim's directory.
    for (const PlannedRun& pr : pc.plan.runs) {
      r.run_dirs.push_back(RelativeTo(options.out_dir, pr.run.dir));
    }
    if (r.run_dirs.size() > 6) r.run_dirs = {RelativeTo(options.out_dir, pc.runs_dir)};
    if (!pc.plan.not_run.empty()) {
      r.outcome.not_run = pc.plan.not_run;
    } else if (std::string why = UnfinishedReason(pc.plan, phases, options.out_dir); !why.empty()) {
      r.outcome.not_run = why;
    } else {
      AssembleContext ctx;
      ctx.scale = options.scale;
      ctx.claim_id = pc.claim->Id();
      ctx.runs_dir = pc.runs_dir;
      ctx.shared_dir = pc.shared_dir;
      ctx.report_dir = options.out_dir;
      absl::StatusOr<Outcome> outcome = pc.claim->assemble(ctx);
      if (outcome.ok()) {
        r.outcome = *std::move(outcome);
      } else {
        r.outcome.not_run =
            absl::StrCat("assembling the runs failed: ", outcome.status().message());
      }
    }
    r.verdict = VerdictOf(r.outcome);
    std::printf("reproduce: %-40s %s\n", pc.claim->Id().c_str(), VerdictName(r.verdict));
    results.push_back(std::move(r));
  }

  ReportHeader header;
  header.scale = options.scale;
  header.command = options.command;
  header.machine = Machine();
  header.date = Today();
  header.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  header.paper_titles = options.paper_titles;
  header.runs = runs;
  header.runs_reused = reused;
  RETURN_IF_ERROR(WriteReport(options.out_dir, header, results));
  std::printf("reproduce: report in %s/report.md and %s/index.html\n", options.out_dir.c_str(),
              options.out_dir.c_str());
  if (!interrupted.ok()) return interrupted;
  return results;
}

}  // namespace common::report
