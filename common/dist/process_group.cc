#include "common/dist/process_group.h"

#include <torch/torch.h>

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/train/progress.h"
#include "common/train/run_dir.h"
#include "common/util/status_macros.h"

ABSL_FLAG(int, dist_timeout_s, 600,
          "With more than one process (torchrun, srun): seconds the rendezvous and each "
          "collective wait for the other ranks before the run stops with an error.");

namespace common::dist {
namespace {

absl::StatusOr<int> IntVariable(const std::function<const char*(const char*)>& getenv,
                                const char* name, int min, std::optional<int> fallback) {
  const char* text = getenv(name);
  if (text == nullptr) {
    if (fallback) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat("distributed launch: $", name, " is not set"));
  }
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("distributed launch: $", name, "='", text, "' is not an integer >= ", min));
  }
  return value;
}

std::string FirstLine(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  const std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
  return std::string(what.substr(0, what.find('\n')));
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

}  // namespace

absl::StatusOr<std::string> FirstHostOfNodeList(const std::string& node_list) {
  // The first entry ends at the first comma outside brackets.
  size_t end = 0;
  int depth = 0;
  for (; end < node_list.size(); ++end) {
    const char ch = node_list[end];
    if (ch == '[') ++depth;
    if (ch == ']') --depth;
    if (ch == ',' && depth == 0) break;
  }
  const std::string first = node_list.substr(0, end);
  const size_t open = first.find('[');
  if (first.empty() || (open == std::string::npos && first.find(']') != std::string::npos)) {
    return absl::InvalidArgumentError("distributed launch: cannot read Slurm node list '" +
                                      node_list + "'");
  }
  if (open == std::string::npos) return first;
  const size_t close = first.find(']', open);
  if (open == 0 || close == std::string::npos) {
    return absl::InvalidArgumentError("distributed launch: cannot read Slurm node list '" +
                                      node_list + "'");
  }
  // "03-05,9" -> "03": the first range's start keeps its leading zeros.
  const std::string ranges = first.substr(open + 1, close - open - 1);
  const std::string start = ranges.substr(0, ranges.find_first_of(",-"));
  if (start.empty()) {
    return absl::InvalidArgumentError("distributed launch: cannot read Slurm node list '" +
                                      node_list + "'");
  }
  return first.substr(0, open) + start + first.substr(close + 1);
}

absl::StatusOr<LaunchInfo> LaunchInfoFromEnvironment(
    const std::function<const char*(const char*)>& getenv_fn) {
  const std::function<const char*(const char*)> getenv =
      getenv_fn ? getenv_fn : [](const char* name) -> const char* { return std::getenv(name); };
  LaunchInfo info;
  if (getenv("WORLD_SIZE") != nullptr) {  // torchrun, or any launcher of its env:// convention
    ASSIGN_OR_RETURN(info.world_size, IntVariable(getenv, "WORLD_SIZE", 1, std::nullopt));
    if (info.world_size == 1) return LaunchInfo{};
    ASSIGN_OR_RETURN(info.rank, IntVariable(getenv, "RANK", 0, std::nullopt));
    ASSIGN_OR_RETURN(info.local_rank, IntVariable(getenv, "LOCAL_RANK", 0, info.rank));
    ASSIGN_OR_RETURN(info.master_port, IntVariable(getenv, "MASTER_PORT", 1, std::nullopt));
    const char* addr = getenv("MASTER_ADDR");
    if (addr == nullptr || *addr == '\0') {
      return absl::InvalidArgumentError("distributed launch: $MASTER_ADDR is not set");
    }
    info.master_addr = addr;
    info.launcher = getenv("TORCHELASTIC_RUN_ID") != nullptr ? "torchrun" : "env";
    const char* agent = getenv("TORCHELASTIC_USE_AGENT_STORE");
    if (agent != nullptr && std::string(agent) == "True") {
      info.agent_store = true;
      ASSIGN_OR_RETURN(const int attempt,
                       IntVariable(getenv, "TORCHELASTIC_RESTART_COUNT", 0, std::nullopt));
      info.store_prefix = absl::StrCat("/worker/attempt_", attempt);
    }
  } else if (const char* tasks = getenv("SLURM_STEP_NUM_TASKS");
             tasks != nullptr && std::string(tasks) != "1") {  // srun -n N, N > 1
    ASSIGN_OR_RETURN(info.world_size, IntVariable(getenv, "SLURM_STEP_NUM_TASKS", 1, 1));
    ASSIGN_OR_RETURN(info.rank, IntVariable(getenv, "SLURM_PROCID", 0, std::nullopt));
    ASSIGN_OR_RETURN(info.local_rank, IntVariable(getenv, "SLURM_LOCALID", 0, 0));
    info.launcher = "srun";
    if (const char* addr = getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') {
      info.master_addr = addr;
    } else {
      const char* nodes = getenv("SLURM_STEP_NODELIST");
      if (nodes == nullptr) nodes = getenv("SLURM_JOB_NODELIST");
      if (nodes == nullptr) {
        return absl::InvalidArgumentError(
            "distributed launch: srun set no $SLURM_STEP_NODELIST; set $MASTER_ADDR");
      }
      ASSIGN_OR_RETURN(info.master_addr, FirstHostOfNodeList(nodes));
    }
    if (getenv("MASTER_PORT") != nullptr) {
      ASSIGN_OR_RETURN(info.master_port, IntVariable(getenv, "MASTER_PORT", 1, std::nullopt));
    } else {  // the same on every task of the step, different for other jobs and steps
      ASSIGN_OR_RETURN(const int job, IntVariable(getenv, "SLURM_JOB_ID", 0, 0));
      ASSIGN_OR_RETURN(const int step, IntVariable(getenv, "SLURM_STEP_ID", 0, 0));
      info.master_port = 10000 + static_cast<int>((int64_t{job} * 16 + step) % 20000);
    }
  } else {
    return LaunchInfo{};
  }
  if (info.rank >= info.world_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "distributed launch: rank ", info.rank, " is not below the world size ", info.world_size));
  }
  if (info.master_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("distributed launch: port ", info.master_port, " is above 65535"));
  }
  return info;
}

std::pair<int64_t, int64_t> ShardRange(int64_t n, int rank, int world_size) {
  return {n * rank / world_size, n * (rank + 1) / world_size};
}

ProcessGroup::ProcessGroup() = default;
ProcessGroup::~ProcessGroup() = default;

absl::StatusOr<std::unique_ptr<ProcessGroup>> ProcessGroup::Connect(
    const LaunchInfo& info, std::chrono::milliseconds timeout) {
  auto group = std::make_unique<ProcessGroup>();
  group->rank_ = info.rank;
  group->world_size_ = info.world_size;
  group->launcher_ = info.launcher;
  if (info.world_size == 1) return group;
  const std::string where = absl::StrCat(info.master_addr, ":", info.master_port);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(info.master_port);
    options.isServer = !info.agent_store && info.rank == 0;
    options.numWorkers = info.world_size;
    options.waitWorkers = true;
    options.timeout = timeout;
    options.multiTenant = !info.agent_store;
    c10::intrusive_ptr<c10d::Store> store =
        c10::make_intrusive<c10d::TCPStore>(info.master_addr, options);
    if (info.agent_store) store = c10::make_intrusive<c10d::PrefixStore>(info.store_prefix, store);
    store->setTimeout(timeout);
    auto gloo = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) {
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (IsLoopback(info.master_addr)) {
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    group->backend_ =
        c10::make_intrusive<c10d::ProcessGroupGloo>(store, info.rank, info.world_size, gloo);
    group->store_ = store;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "distributed: rank ", info.rank, " of ", info.world_size, " could not join the group at ",
        where, " (", info.launcher, ") within --dist_timeout_s: ", FirstLine(e)));
  }
  return group;
}

absl::Status ProcessGroup::Run(const char* what, const std::function<void()>& collective) {
  if (!distributed()) return absl::OkStatus();
  try {
    collective();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("distributed: ", what, " failed on rank ", rank_,
                                               " of ", world_size_,
                                               " (another rank stopped, or --dist_timeout_s "
                                               "passed): ",
                                               FirstLine(e)));
  }
  return absl::OkStatus();
}

torch::Tensor ProcessGroup::Shard(const torch::Tensor& global) const {
  if (!distributed()) return global;
  const auto [begin, end] = ShardRange(global.size(0), rank_, world_size_);
  return global.slice(0, begin, end);
}

absl::Status ProcessGroup::AllReduceSum(std::vector<torch::Tensor>& tensors) {
  return Run("all-reduce", [&] {
    // One tensor per call: c10d reads several tensors of one call as copies on several devices.
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    std::vector<std::vector<torch::Tensor>> args;
    args.reserve(tensors.size());
    for (torch::Tensor& t : tensors) {
      TORCH_CHECK(t.is_contiguous(), "all-reduce of a non-contiguous tensor");
      args.push_back({t});
      works.push_back(backend_->allreduce(args.back()));
    }
    for (auto& work : works) work->wait();
  });
}

absl::StatusOr<std::vector<double>> ProcessGroup::SumDoubles(const std::vector<double>& values) {
  if (!distributed()) return values;
  std::vector<torch::Tensor> t = {
      torch::tensor(std::vector<double>(values), torch::kFloat64).contiguous()};
  RETURN_IF_ERROR(AllReduceSum(t));
  const double* p = t[0].data_ptr<double>();
  return std::vector<double>(p, p + values.size());
}

absl::Status ProcessGroup::SumOverRanks(train::RunningMean& mean) {
  if (!distributed()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::vector<double> sums,
                   SumDoubles({mean.mean() * mean.weight(), mean.weight()}));
  mean = train::RunningMean();
  if (sums[1] > 0) mean.Add(sums[0] / sums[1], sums[1]);
  return absl::OkStatus();
}

absl::Status ProcessGroup::Broadcast(std::vector<torch::Tensor>& tensors, int root) {
  return Run("broadcast", [&] {
    for (torch::Tensor& t : tensors) {
      std::vector<torch::Tensor> arg = {t.is_contiguous() ? t : t.contiguous()};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      backend_->broadcast(arg, options)->wait();
      if (!arg[0].is_same(t)) t.copy_(arg[0]);
    }
  });
}

absl::Status ProcessGroup::BroadcastModule(torch::nn::Module& module) {
  std::vector<torch::Tensor> state = module.parameters();
  for (const torch::Tensor& b : module.buffers()) state.push_back(b);
  return BroadcastFlat(std::move(state));
}

absl::Status ProcessGroup::BroadcastBuffers(torch::nn::Module& module) {
  return BroadcastFlat(module.buffers());
}

absl::Status ProcessGroup::BroadcastFlat(std::vector<torch::Tensor> state) {
  if (!distributed()) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  std::vector<bool> done(state.size(), false);
  for (size_t i = 0; i < state.size(); ++i) {
    if (done[i]) continue;
    std::vector<size_t> group;
    for (size_t j = i; j < state.size(); ++j) {
      if (!done[j] && state[j].dtype() == state[i].dtype() &&
          state[j].device() == state[i].device()) {
        group.push_back(j);
        done[j] = true;
      }
    }
    std::vector<torch::Tensor> flat_parts;
    for (size_t j : group) flat_parts.push_back(state[j].reshape(-1));
    std::vector<torch::Tensor> flat = {torch::cat(flat_parts)};
    RETURN_IF_ERROR(Broadcast(flat));
    int64_t offset = 0;
    for (size_t j : group) {
      const int64_t n = state[j].numel();
      state[j].copy_(flat[0].narrow(0, offset, n).view_as(state[j]));
      offset += n;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> ProcessGroup::AllGatherRows(const torch::Tensor& rows) {
  if (!distributed()) return rows;
  std::vector<torch::Tensor> count = {torch::tensor({rows.size(0)}, torch::kInt64)};
  std::vector<std::vector<torch::Tensor>> counts(1);
  for (int r = 0; r < world_size_; ++r) counts[0].push_back(torch::empty({1}, torch::kInt64));
  RETURN_IF_ERROR(Run("all-gather", [&] { backend_->allgather(counts, count)->wait(); }));
  int64_t most = 0;
  for (const torch::Tensor& c : counts[0]) most = std::max(most, c.item<int64_t>());
  std::vector<int64_t> padded_shape = rows.sizes().vec();
  padded_shape[0] = most;
  std::vector<torch::Tensor> mine = {torch::zeros(padded_shape, rows.options())};
  mine[0].narrow(0, 0, rows.size(0)).copy_(rows);
  std::vector<std::vector<torch::Tensor>> all(1);
  for (int r = 0; r < world_size_; ++r) all[0].push_back(torch::empty_like(mine[0]));
  RETURN_IF_ERROR(Run("all-gather", [&] { backend_->allgather(all, mine)->wait(); }));
  std::vector<torch::Tensor> parts;
  for (int r = 0; r < world_size_; ++r) {
    parts.push_back(all[0][r].narrow(0, 0, counts[0][r].item<int64_t>()));
  }
  return torch::cat(parts);
}

absl::StatusOr<std::vector<std::string>> ProcessGroup::ExchangeThroughStore(
    const std::string& key, const std::string& value) {
  std::vector<std::string> values(world_size_);
  RETURN_IF_ERROR(Run("exchange through the store", [&] {
    const std::string prefix = absl::StrCat("common_dist/", exchanges_++, "/", key, "/");
    store_->set(prefix + std::to_string(rank_), std::vector<uint8_t>(value.begin(), value.end()));
    for (int r = 0; r < world_size_; ++r) {
      const std::vector<uint8_t> bytes = store_->get(prefix + std::to_string(r));
      values[r] = std::string(bytes.begin(), bytes.end());
    }
  }));
  return values;
}

std::function<absl::StatusOr<int>(int)> ProcessGroup::InterruptAgreement() {
  if (!distributed()) return nullptr;
  return [this](int signal) -> absl::StatusOr<int> {
    ASSIGN_OR_RETURN(const std::vector<double> sums,
                     SumDoubles({signal != 0 ? 1.0 : 0.0, signal == SIGINT ? 1.0 : 0.0}));
    if (sums[0] == 0) return 0;
    if (signal != 0) return signal;
    return sums[1] == sums[0] ? SIGINT : SIGTERM;  // the others' signal; SIGTERM when mixed
  };
}

absl::Status ProcessGroup::Agree(const absl::Status& mine) {
  if (!distributed()) return mine;
  // "" for OK, else the status as JSON (code, message, payloads: e.g. a finished run's mark).
  std::string value;
  if (!mine.ok()) {
    nlohmann::json j = {{"code", static_cast<int>(mine.code())},
                        {"message", std::string(mine.message())},
                        {"payloads", nlohmann::json::object()}};
    mine.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
      j["payloads"][std::string(url)] = std::string(payload);
    });
    value = j.dump();
  }
  ASSIGN_OR_RETURN(std::vector<std::string> all, ExchangeThroughStore("agree", value));
  if (!mine.ok()) return mine;
  for (int r = 0; r < world_size_; ++r) {
    if (all[r].empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(all[r], nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return absl::UnknownError(absl::StrCat("rank ", r, " failed"));
    absl::Status theirs(
        static_cast<absl::StatusCode>(j.value("code", 2)),
        absl::StrCat("rank ", r, " of ", world_size_, ": ", j.value("message", std::string())));
    for (const auto& [url, payload] : j["payloads"].items()) {
      theirs.SetPayload(url, absl::Cord(payload.get<std::string>()));
    }
    return theirs;
  }
  return absl::OkStatus();
}

absl::Status ProcessGroup::CheckSameConfig(const nlohmann::json& config) {
  if (!distributed()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> all, ExchangeThroughStore("config", config.dump()));
  const nlohmann::json first = nlohmann::json::parse(all[0], nullptr, /*allow_exceptions=*/false);
  for (int r = 1; r < world_size_; ++r) {
    const nlohmann::json other = nlohmann::json::parse(all[r], nullptr, false);
    const std::vector<std::string> differences = train::ConfigDifferences(first, other);
    if (!differences.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the ranks were started with different flags; rank ", r,
                       " against rank 0: ", absl::StrJoin(differences, ", ")));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ProcessGroup*> World() {
  static std::once_flag once;
  static std::unique_ptr<ProcessGroup> world;
  static absl::Status status;
  std::call_once(once, [] {
    absl::StatusOr<LaunchInfo> info = LaunchInfoFromEnvironment();
    if (!info.ok()) {
      status = info.status();
      return;
    }
    absl::StatusOr<std::unique_ptr<ProcessGroup>> group = ProcessGroup::Connect(
        *info, std::chrono::seconds(std::max(1, absl::GetFlag(FLAGS_dist_timeout_s))));
    if (!group.ok()) {
      status = group.status();
      return;
    }
    world = *std::move(group);
    if (!world->is_main()) train::ProgressLine::SetPrinting(false);
  });
  RETURN_IF_ERROR(status);
  return world.get();
}

}  // namespace common::dist
