#include "common/dist/run_dir.h"

#include <utility>

#include "common/util/status_macros.h"

namespace common::dist {

absl::StatusOr<std::optional<train::RunDir>> OpenRunDirOnRankZero(ProcessGroup& world,
                                                                  const std::string& path,
                                                                  const nlohmann::json& flags,
                                                                  bool resume) {
  RETURN_IF_ERROR(world.CheckSameConfig(flags));
  std::optional<train::RunDir> run;
  absl::Status opened;
  if (!path.empty() && world.is_main()) {
    absl::StatusOr<train::RunDir> dir = train::RunDir::Open(path, flags, resume);
    if (dir.ok()) run = *std::move(dir);
    opened = dir.status();
  }
  RETURN_IF_ERROR(world.Agree(opened));
  return run;
}

}  // namespace common::dist
