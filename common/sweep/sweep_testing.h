// Test helpers: a sweep of //common/sweep:sweep_probe runs, fresh directories and readers of
// the runs' outputs.
#ifndef COMMON_SWEEP_SWEEP_TESTING_H_
#define COMMON_SWEEP_SWEEP_TESTING_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sweep/sweep.h"
#include "common/testing/runfiles.h"

namespace common::sweep::testing {

// The probe binary in the test's runfiles.
inline std::string ProbePath() { return common::testing::RunfilesPath("common/sweep/sweep_probe"); }

// `n` probe runs seed0..seed<n-1> under `dir`, each started with `extra` flags.
inline Sweep ProbeSweep(const std::string& dir, int n) {
  Sweep sweep{dir, {}};
  for (int i = 0; i < n; ++i) {
    const std::string run_dir = absl::StrCat(dir, "/seed", i);
    sweep.runs.push_back({absl::StrCat("seed", i),
                          {ProbePath(), absl::StrCat("--seed=", i), "--out_dir=" + run_dir},
                          run_dir});
  }
  return sweep;
}

// An empty directory `name` under the test's temporary directory.
inline std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp ? tmp : "/tmp", "/", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline int CountLines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace common::sweep::testing

#endif  // COMMON_SWEEP_SWEEP_TESTING_H_
