// Which flags identify a run (common/train/run_dir.h) — apart from run_dir so that code below it
// (the curves of common/plot, which run_dir draws) can use the same list.
#ifndef COMMON_TRAIN_RUN_IDENTITY_H_
#define COMMON_TRAIN_RUN_IDENTITY_H_

namespace common::train {

// Flags that do not change a run's result: not part of its identity. (The number of processes
// of a data-parallel run is not a flag: the global batches are the same for any.)
inline constexpr const char* kFlagsOutsideIdentity[] = {"threads", "resume", "overwrite", "out_dir",
                                                        "dist_timeout_s"};

}  // namespace common::train

#endif  // COMMON_TRAIN_RUN_IDENTITY_H_
