// Test helpers for the claims' assemble functions: synthetic run directories and a context
// pointing at them.
#ifndef COMMON_REPORT_CLAIM_TESTING_H_
#define COMMON_REPORT_CLAIM_TESTING_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/report/claim.h"

namespace common::report::testing {

// The claim named `name` of `claims` (aborts the test binary when there is none).
inline const Claim& FindClaim(const std::vector<Claim>& claims, const std::string& name) {
  for (const Claim& c : claims) {
    if (c.name == name) return c;
  }
  std::abort();
}

// A fresh report directory for `claim` under $TEST_TMPDIR, laid out as the driver does:
// runs/<paper>/<claim>, runs/<paper>/shared and figures/.
inline AssembleContext FreshContext(const Claim& claim, Scale scale = Scale::kQuick) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  AssembleContext ctx;
  ctx.scale = scale;
  ctx.claim_id = claim.Id();
  ctx.report_dir = std::string(tmp ? tmp : "/tmp") + "/claim_" + claim.Id();
  std::filesystem::remove_all(ctx.report_dir);
  ctx.runs_dir = ctx.report_dir + "/runs/" + claim.paper + "/" + claim.name;
  ctx.shared_dir = ctx.report_dir + "/runs/" + claim.paper + "/shared";
  for (const std::string& d : {ctx.runs_dir, ctx.shared_dir, ctx.report_dir + "/figures"}) {
    std::filesystem::create_directories(d);
  }
  return ctx;
}

// Writes `text` to `path`, creating its directory.
inline void WriteText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// The verdict of `claim` assembled in `ctx`; an assembling error reads as kNotRun with the
// message in *why.
inline Verdict AssembledVerdict(const Claim& claim, const AssembleContext& ctx,
                                std::string* why = nullptr) {
  const absl::StatusOr<Outcome> o = claim.assemble(ctx);
  if (!o.ok()) {
    if (why != nullptr) *why = std::string(o.status().message());
    return Verdict::kNotRun;
  }
  return VerdictOf(*o);
}

}  // namespace common::report::testing

#endif  // COMMON_REPORT_CLAIM_TESTING_H_
