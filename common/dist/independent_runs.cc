#include "common/dist/independent_runs.h"

#include <torch/torch.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "common/train/checkpoint.h"
#include "common/util/status_macros.h"

namespace common::dist {
namespace {

std::string Key(int64_t run) { return absl::StrCat("run_", run); }

// The rows results_path holds: runs 0 .. d-1, each a 1-D float64 tensor; anything else there is
// DataLoss (the file is not a record of this job's runs).
absl::StatusOr<std::vector<torch::Tensor>> ReadRecorded(const std::string& path, int64_t count) {
  std::vector<torch::Tensor> rows;
  if (!data::FileExists(path)) return rows;
  ASSIGN_OR_RETURN(const train::TensorMap recorded, train::LoadTensorMap(path));
  for (int64_t k = 0; k < count; ++k) {
    const auto it = recorded.find(Key(k));
    if (it == recorded.end()) break;
    if (it->second.dim() != 1 || it->second.scalar_type() != torch::kFloat64) {
      return absl::DataLossError(absl::StrCat(path, ": ", Key(k), " is not a 1-D float64 row"));
    }
    rows.push_back(it->second);
  }
  if (rows.size() != recorded.size()) {
    return absl::DataLossError(absl::StrCat(path, ": holds ", recorded.size(),
                                            " entries, not only the rows of runs 0..k of ", count,
                                            " (another job's record?)"));
  }
  return rows;
}

}  // namespace

absl::StatusOr<std::vector<torch::Tensor>> RunIndependently(
    ProcessGroup& world, const IndependentRunsOptions& options,
    const std::function<absl::StatusOr<torch::Tensor>(int64_t run)>& run) {
  // Rank 0 reads what a killed job recorded and tells the others where to start.
  std::vector<torch::Tensor> rows;
  absl::Status read = absl::OkStatus();
  if (world.is_main() && options.resume && !options.results_path.empty()) {
    absl::StatusOr<std::vector<torch::Tensor>> recorded =
        ReadRecorded(options.results_path, options.count);
    if (recorded.ok()) {
      rows = *std::move(recorded);
    } else {
      read = recorded.status();
    }
  }
  RETURN_IF_ERROR(world.Agree(read));
  ASSIGN_OR_RETURN(const std::vector<double> done,
                   world.SumDoubles({static_cast<double>(rows.size())}));

  for (auto start = static_cast<int64_t>(done[0]); start < options.count;
       start += world.world_size()) {
    const int64_t mine = start + world.rank();
    // [length, row...] of this rank's run; ranks past the last run send nothing. The gathered
    // messages come in rank order, i.e. run order: rank 0's rows stay indexed by run.
    torch::Tensor message = torch::empty({0}, torch::kFloat64);
    absl::Status ran = absl::OkStatus();
    if (mine < options.count) {
      absl::StatusOr<torch::Tensor> row = run(mine);
      if (row.ok() && row->dim() != 1) {
        row = absl::InternalError(
            absl::StrCat("run ", mine, " returned a ", row->dim(), "-D result, not a row"));
      }
      if (row.ok()) {
        const torch::Tensor values = row->detach().to(torch::kCPU, torch::kFloat64);
        message = torch::cat(
            {torch::tensor({static_cast<double>(values.numel())}, torch::kFloat64), values});
      }
      ran = row.status();
    }
    RETURN_IF_ERROR(world.Agree(ran));
    ASSIGN_OR_RETURN(const torch::Tensor all, world.AllGatherRows(message));
    const size_t first_new = rows.size();
    absl::Status recorded = absl::OkStatus();
    if (world.is_main()) {
      const double* p = all.data_ptr<double>();
      for (int64_t at = 0; at < all.numel();) {
        const auto length = static_cast<int64_t>(p[at]);
        rows.push_back(all.narrow(0, at + 1, length).clone());
        at += 1 + length;
      }
      if (!options.results_path.empty()) {
        train::TensorMap record;
        for (size_t k = 0; k < rows.size(); ++k) record[Key(static_cast<int64_t>(k))] = rows[k];
        recorded = train::SaveTensorMap(options.results_path, record);
      }
    }
    RETURN_IF_ERROR(world.Agree(recorded));  // a failed write stops every rank
    if (options.on_recorded) {
      for (size_t k = first_new; k < rows.size(); ++k) {
        options.on_recorded(static_cast<int64_t>(k), rows[k]);
      }
    }
    if (options.checkpoint_path && mine < options.count) {
      if (const std::string path = options.checkpoint_path(mine); !path.empty()) {
        std::remove(path.c_str());
      }
    }
  }
  if (!world.is_main()) rows.clear();
  return rows;
}

}  // namespace common::dist
