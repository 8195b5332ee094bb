// The start of a data-parallel run's directory (common/train/run_dir.h), the same for every
// trainer.
#ifndef COMMON_DIST_RUN_DIR_H_
#define COMMON_DIST_RUN_DIR_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/dist/process_group.h"
#include "common/train/run_dir.h"

namespace common::dist {

// Every rank checks that it runs the same flags (one error naming each difference); rank 0
// opens `path` (nothing is opened when it is empty, nor on the other ranks, which return an
// empty optional); an error there (a refused --resume, another run's directory, a finished run)
// is returned on every rank.
absl::StatusOr<std::optional<train::RunDir>> OpenRunDirOnRankZero(ProcessGroup& world,
                                                                  const std::string& path,
                                                                  const nlohmann::json& flags,
                                                                  bool resume);

}  // namespace common::dist

#endif  // COMMON_DIST_RUN_DIR_H_
