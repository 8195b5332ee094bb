// Writes the signal-propagation figures (Hoedt & Klambauer 2023, Fig. 1 / Fig. 4) and prints the
// per-layer statistics.
//
//   ./bazelw run //icnn:sigprop                       # -> runs/icnn_sigprop/
#include <cstdio>

#include "common/data/file_bytes.h"
#include "common/util/runtime.h"
#include "common/util/status_macros.h"
#include "icnn/signal_propagation.h"

namespace icnn {
namespace {

absl::Status Main(const common::util::Runtime& rt) {
  const std::string dir = rt.ResolveOutDir("icnn_sigprop");
  RETURN_IF_ERROR(WriteSigpropFigures(dir, rt.seed));
  ASSIGN_OR_RETURN(std::string csv, common::data::ReadFileBytes(dir + "/sigprop.csv"));
  std::printf("%s\nhistograms and correlation heatmaps (PNG) in %s\n", csv.c_str(), dir.c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace icnn

int main(int argc, char** argv) {
  return common::util::RunMain(
      argc, argv,
      "Signal propagation through a 200-400-300-400-100 network on x ~ N(0, I): non-convex, ICNN "
      "with default init, ICNN with the principled init (+ bias noise, + skips).",
      icnn::Main);
}
