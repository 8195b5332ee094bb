// Data-parallel training across processes on PyTorch's c10d: the process group that a launcher
// (torchrun, Slurm's srun) describes in the environment, TCPStore rendezvous, Gloo collectives on
// CPU. We use c10d as it ships with LibTorch; nothing here is a collective or rendezvous of our
// own.
//
// World size 1 (no launcher) is the plain single-process path: no store, no group, every
// collective returns at once and changes nothing.
//
// Launchers (see README "More than one process or machine"):
//   torchrun: /usr/bin/python3 -m torch.distributed.run --no_python --nproc_per_node=2 BINARY ...
//             (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; the agent's store when
//             TORCHELASTIC_USE_AGENT_STORE=True, else rank 0 hosts it)
//   srun:     srun -n 2 BINARY ... (SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID; master =
//             $MASTER_ADDR or the first node of the step, port $MASTER_PORT or one derived from
//             the job id)
//
// Example (a trainer):
//   ASSIGN_OR_RETURN(common::dist::ProcessGroup * world, common::dist::World());
//   RETURN_IF_ERROR(world->CheckSameConfig(flags_json));   // every rank runs the same flags
//   RETURN_IF_ERROR(world->BroadcastModule(*net));         // rank 0's initial weights
//   const torch::Tensor mine = world->Shard(global_batch_indices);
#ifndef COMMON_DIST_PROCESS_GROUP_H_
#define COMMON_DIST_PROCESS_GROUP_H_

#include <torch/nn/module.h>
#include <torch/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/train/metrics.h"

// --dist_timeout_s: how long a collective or the rendezvous waits for the other ranks.
ABSL_DECLARE_FLAG(int, dist_timeout_s);

namespace common::dist {

// Where this process stands in a job, as the launcher's environment says.
struct LaunchInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string launcher;     // "torchrun", "srun" or "" (one process)
  std::string master_addr;  // the store's host (world_size > 1)
  int master_port = 0;
  bool agent_store = false;  // torchrun's agent hosts the store; every rank is a client
  std::string store_prefix;  // key prefix in the agent's store ("/worker/attempt_<n>")
};

// Reads torchrun's variables when WORLD_SIZE is set, else srun's when the job step has more than
// one task (SLURM_STEP_NUM_TASKS > 1: a batch script's own process is one task), else one
// process. `getenv` is for tests. A set but malformed variable is InvalidArgument naming it.
absl::StatusOr<LaunchInfo> LaunchInfoFromEnvironment(
    const std::function<const char*(const char*)>& getenv = nullptr);

// The first host of a Slurm node list: "node[03-05,9],gpu1" -> "node03".
absl::StatusOr<std::string> FirstHostOfNodeList(const std::string& node_list);

// Rows [begin, end) of `n` that rank `rank` of `world_size` holds: contiguous, in rank order,
// sizes differing by at most one.
std::pair<int64_t, int64_t> ShardRange(int64_t n, int rank, int world_size);

class ProcessGroup {
 public:
  // One process: rank 0 of 1.
  ProcessGroup();
  // Connects to the store and forms the Gloo group; waits at most `timeout` for the other ranks.
  static absl::StatusOr<std::unique_ptr<ProcessGroup>> Connect(const LaunchInfo& info,
                                                               std::chrono::milliseconds timeout);
  ~ProcessGroup();

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  bool is_main() const { return rank_ == 0; }
  bool distributed() const { return world_size_ > 1; }
  const std::string& launcher() const { return launcher_; }

  // This rank's rows (along dim 0) of a global batch: ShardRange of it. Of its indices, or of its
  // inputs and targets where every rank prepared the whole batch alike (e.g. augmented with the
  // one-process generator, so that the draws do not depend on the number of ranks).
  torch::Tensor Shard(const torch::Tensor& global) const;

  // In-place sums over the ranks (identical on every rank afterwards).
  absl::Status AllReduceSum(std::vector<torch::Tensor>& tensors);
  // Sums of a few numbers (float64), e.g. a loss total and a count.
  absl::StatusOr<std::vector<double>> SumDoubles(const std::vector<double>& values);
  // A running mean over every rank's additions (e.g. the training loss of an epoch), in place.
  absl::Status SumOverRanks(train::RunningMean& mean);
  // The tensors' values on rank `root`, in place on every rank.
  absl::Status Broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  // Rank 0's parameters and buffers into every rank's module.
  absl::Status BroadcastModule(torch::nn::Module& module);
  // Rank 0's buffers only (BatchNorm running statistics, which each rank updates from its own
  // shard: as with PyTorch's DDP, rank 0's are the ones that count; call before evaluating).
  absl::Status BroadcastBuffers(torch::nn::Module& module);
  // Every rank's `rows` concatenated along dim 0 in rank order (row counts may differ; the
  // other dims must agree).
  absl::StatusOr<torch::Tensor> AllGatherRows(const torch::Tensor& rows);

  // Each rank passes its own status; all return OK when every rank's is OK, else the failing
  // ranks their own error and the others one naming the first failing rank and its message.
  // Used so that an error on one rank (a bad --resume, a missing file) stops all of them with a
  // clear line instead of leaving the others waiting in a collective.
  absl::Status Agree(const absl::Status& mine);
  // For EpochLoopOptions::agree_interrupt: all ranks stop after the same step when any of them
  // got SIGINT / SIGTERM (one all-reduce of two numbers per call). Empty at world size 1.
  std::function<absl::StatusOr<int>(int signal)> InterruptAgreement();
  // Agree on the run's config: an error on every rank listing the flags whose values differ
  // from rank 0's (flags outside a run's identity, such as --threads, are ignored).
  absl::Status CheckSameConfig(const nlohmann::json& config);

  // The c10d group for code that needs it directly (GradientSync); null at world size 1.
  const c10::intrusive_ptr<c10d::ProcessGroup>& backend() const { return backend_; }
  // Runs `collective` (calls on backend() and their waits); an exception (a rank died, a
  // timeout) becomes Unavailable naming `what` and this rank. OK at once at world size 1.
  absl::Status Run(const char* what, const std::function<void()>& collective);

 private:
  // Writes "<key>/<rank>" = value into the store, reads every rank's.
  // `state` flattened into one message per dtype and device, sent from rank 0, copied back.
  absl::Status BroadcastFlat(std::vector<torch::Tensor> state);
  absl::StatusOr<std::vector<std::string>> ExchangeThroughStore(const std::string& key,
                                                                const std::string& value);

  int rank_ = 0;
  int world_size_ = 1;
  std::string launcher_;
  int64_t exchanges_ = 0;  // store exchanges so far: a fresh key for each
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroup> backend_;
};

// The process's group: on the first call, connected from the launcher's environment
// (LaunchInfoFromEnvironment, --dist_timeout_s); a single-process group when there is no
// launcher. Ranks other than 0 stop drawing progress lines. Later calls return the same group.
absl::StatusOr<ProcessGroup*> World();

}  // namespace common::dist

#endif  // COMMON_DIST_PROCESS_GROUP_H_
