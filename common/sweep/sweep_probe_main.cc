// A tiny experiment for the runner tests: writes summary.json with a value that depends only on
// --seed (a fixed-length LCG sum), the --threads it was given and whether it was resumed, and
// appends a line to <out_dir>/attempts on every start. With --hold=PATH it waits while PATH
// exists (up to 60 s), so a test can kill it mid-run; --fail exits 3 before the summary.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/data/file_bytes.h"

ABSL_FLAG(uint64_t, seed, 0, "Seed of the value.");
ABSL_FLAG(std::string, out_dir, "", "Run directory.");
ABSL_FLAG(int, threads, 0, "Recorded in summary.json.");
ABSL_FLAG(bool, resume, false, "Recorded in summary.json.");
ABSL_FLAG(std::string, hold, "", "Wait while this file exists.");
ABSL_FLAG(bool, fail, false, "Exit 3 instead of writing summary.json.");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dir = absl::GetFlag(FLAGS_out_dir);
  if (dir.empty() || !common::data::MakeDirs(dir).ok()) return 2;
  std::ofstream(dir + "/attempts", std::ios::app) << "start\n";
  std::printf("probe seed %llu\n", static_cast<unsigned long long>(absl::GetFlag(FLAGS_seed)));
  std::fflush(stdout);
  const std::string hold = absl::GetFlag(FLAGS_hold);
  for (int i = 0; i < 600 && !hold.empty() && access(hold.c_str(), F_OK) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (absl::GetFlag(FLAGS_fail)) return 3;
  uint64_t x = absl::GetFlag(FLAGS_seed) * 2654435761u + 1;
  double value = 0;
  for (int i = 0; i < 1000; ++i) {
    x = x * 6364136223846793005u + 1442695040888963407u;
    value += static_cast<double>(x >> 11) / 9007199254740992.0;
  }
  const std::string summary =
      absl::StrCat("{\"value\": ", absl::StrFormat("%.17g", value),
                   ", \"threads\": ", absl::GetFlag(FLAGS_threads),
                   ", \"resumed\": ", absl::GetFlag(FLAGS_resume) ? "true" : "false", "}\n");
  return common::data::WriteFileAtomically(dir + "/summary.json", summary).ok() ? 0 : 1;
}
