#include "common/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/file_bytes.h"
#include "common/train/torch_pickle.h"
#include "common/util/interrupt.h"
#include "common/util/status_macros.h"
#include "glog/logging.h"

namespace common::train {
namespace {

std::string Shape(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

absl::Status FromTorchError(const std::string& path, const c10::Error& e) {
  return absl::DataLossError(absl::StrCat(path, ": ", e.what_without_backtrace()));
}

// Everything a checkpoint holds besides the module itself.
constexpr char kModelKey[] = "model";
constexpr char kOptimizerKey[] = "optimizer";
constexpr char kEpochKey[] = "epoch";
constexpr char kStepKey[] = "step";
constexpr char kBatchKey[] = "batch";
constexpr char kRngKey[] = "cpu_rng_state";
constexpr char kExtraKey[] = "extra";
constexpr char kPayloadKey[] = "payload";
constexpr char kCrcKey[] = "crc32";

uint32_t Crc32(const char* data, size_t size) {
  return static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(size)));
}

torch::Tensor BytesTensor(const std::string& bytes) {
  return torch::from_blob(const_cast<char*>(bytes.data()), {static_cast<int64_t>(bytes.size())},
                          torch::kUInt8)
      .clone();
}

}  // namespace

TensorMap StateDict(const torch::nn::Module& module) {
  TensorMap out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    out[p.key()] = p.value().detach().cpu();
  }
  for (const auto& b : module.named_buffers(/*recurse=*/true)) {
    if (b.value().defined()) out[b.key()] = b.value().detach().cpu();
  }
  return out;
}

absl::Status LoadStateDictInto(const TensorMap& state, torch::nn::Module& module,
                               const std::string& source) {
  TensorMap own;
  for (const auto& p : module.named_parameters(true)) own[p.key()] = p.value();
  for (const auto& b : module.named_buffers(true)) {
    if (b.value().defined()) own[b.key()] = b.value();
  }
  for (const auto& [key, value] : own) {
    const auto it = state.find(key);
    if (it == state.end()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": missing key '", key, "'"));
    }
    if (it->second.sizes() != value.sizes()) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, " shape ", Shape(value), " != ", Shape(it->second), " in ", source));
    }
  }
  for (const auto& [key, value] : state) {
    if (own.count(key) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": unexpected key '", key, "'"));
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& [key, value] : own) value.copy_(state.at(key));
  return absl::OkStatus();
}

absl::Status SaveTensorMap(const std::string& path, const TensorMap& tensors) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [key, value] : tensors) dict.insert(key, value.detach().cpu().contiguous());
  const std::vector<char> bytes = torch::pickle_save(dict);
  return data::WriteFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

absl::StatusOr<TensorMap> LoadTensorMap(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, data::ReadFileBytes(path));
  return ReadTorchSave(path, bytes);
}

absl::Status SaveStateDict(const std::string& path, const torch::nn::Module& module) {
  return SaveTensorMap(path, StateDict(module));
}

absl::Status LoadStateDict(const std::string& path, torch::nn::Module& module) {
  ASSIGN_OR_RETURN(TensorMap state, LoadTensorMap(path));
  return LoadStateDictInto(state, module, path);
}

absl::Status SaveCheckpoint(const std::string& path, const torch::nn::Module& module,
                            const torch::optim::Optimizer& optimizer, const TrainProgress& progress,
                            const TensorMap& extra) {
  std::string payload;
  try {
    torch::serialize::OutputArchive archive, model_archive, optimizer_archive, extra_archive;
    module.save(model_archive);
    optimizer.save(optimizer_archive);
    archive.write(kModelKey, model_archive);
    archive.write(kOptimizerKey, optimizer_archive);
    archive.write(kEpochKey, torch::tensor(progress.epoch, torch::kInt64));
    archive.write(kStepKey, torch::tensor(progress.step, torch::kInt64));
    archive.write(kBatchKey, torch::tensor(progress.batch, torch::kInt64));
    for (const auto& [name, tensor] : extra) extra_archive.write(name, tensor.detach().cpu());
    archive.write(kExtraKey, extra_archive);
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      archive.write(kRngKey, gen.get_state());
    }
    std::ostringstream inner;
    archive.save_to(inner);
    payload = inner.str();
    // The payload and its CRC-32 in one file: LibTorch's zip reader does not check CRCs, so a
    // flipped byte inside a tensor would otherwise load silently.
    torch::serialize::OutputArchive outer;
    outer.write(kPayloadKey, BytesTensor(payload));
    outer.write(kCrcKey, torch::tensor(static_cast<int64_t>(Crc32(payload.data(), payload.size())),
                                       torch::kInt64));
    std::ostringstream file;
    outer.save_to(file);
    payload = file.str();
  } catch (const c10::Error& e) {
    return FromTorchError(path, e);
  }
  return data::WriteFileAtomically(path, payload);
}

absl::StatusOr<TrainProgress> LoadCheckpoint(const std::string& path, torch::nn::Module& module,
                                             torch::optim::Optimizer& optimizer, TensorMap* extra) {
  if (!data::FileExists(path)) return absl::NotFoundError(absl::StrCat(path, ": no checkpoint"));
  ASSIGN_OR_RETURN(const std::string bytes, data::ReadFileBytes(path));
  TrainProgress progress;
  try {
    torch::serialize::InputArchive outer, archive, model_archive, optimizer_archive, extra_archive;
    outer.load_from(bytes.data(), bytes.size());
    torch::Tensor payload, crc;
    if (!outer.try_read(kPayloadKey, payload) || !outer.try_read(kCrcKey, crc)) {
      return absl::DataLossError(
          absl::StrCat(path,
                       ": not a checkpoint of this version (no checksum); start "
                       "the run anew with --overwrite"));
    }
    payload = payload.contiguous();
    const char* inner = static_cast<const char*>(payload.data_ptr());
    const size_t inner_size = static_cast<size_t>(payload.numel());
    if (static_cast<int64_t>(Crc32(inner, inner_size)) != crc.item<int64_t>()) {
      return absl::DataLossError(
          absl::StrCat(path,
                       ": checksum mismatch, the checkpoint is corrupt; start the "
                       "run anew with --overwrite"));
    }
    archive.load_from(inner, inner_size);
    archive.read(kModelKey, model_archive);
    archive.read(kOptimizerKey, optimizer_archive);
    // Module::load replaces tensors whatever their shape: a run resumed with other sizes would
    // silently continue the checkpoint's model.
    const TensorMap before = StateDict(module);
    module.load(model_archive);
    for (const auto& [name, tensor] : StateDict(module)) {
      const auto old = before.find(name);
      if (old != before.end() && old->second.sizes() != tensor.sizes()) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": '", name, "' has shape ", Shape(tensor), ", the model ", Shape(old->second),
            " (resumed with other sizes than the run that wrote it?)"));
      }
    }
    optimizer.load(optimizer_archive);
    torch::Tensor epoch, step, rng;
    archive.read(kEpochKey, epoch);
    archive.read(kStepKey, step);
    archive.read(kRngKey, rng);
    if (extra != nullptr && archive.try_read(kExtraKey, extra_archive)) {
      for (const std::string& key : extra_archive.keys()) {
        torch::Tensor t;
        extra_archive.read(key, t);
        (*extra)[key] = t;
      }
    }
    torch::Tensor batch;
    progress = {epoch.item<int64_t>(), step.item<int64_t>(),
                archive.try_read(kBatchKey, batch) ? batch.item<int64_t>() : 0};
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  } catch (const c10::Error& e) {
    return FromTorchError(path, e);
  }
  return progress;
}

int64_t StartBatch(TrainProgress& progress) { return std::exchange(progress.batch, 0); }

namespace {

// The agreement of the RunEpochs that runs (null outside one, or when it has none).
const std::function<absl::StatusOr<int>(int)>* current_agreement = nullptr;

}  // namespace

absl::StatusOr<bool> StopRequested() {
  if (current_agreement == nullptr) return util::InterruptRequested();
  // The agreed answer, not this process's flag, which a signal may have set meanwhile: every
  // rank must stop at the same step.
  ASSIGN_OR_RETURN(const int signal, (*current_agreement)(util::InterruptSignal()));
  if (signal != 0 && !util::InterruptRequested()) util::AdoptInterrupt(signal);
  return signal != 0;
}

absl::Status InterruptedAt(TrainProgress& progress, int64_t batches_done) {
  progress.batch = batches_done;
  return util::InterruptedError(absl::StrCat("at step ", progress.step, " (epoch ",
                                             progress.epoch + 1, ", batch ", batches_done, ")"));
}

absl::Status StopIfInterrupted(TrainProgress& progress, int64_t batches_done) {
  ASSIGN_OR_RETURN(const bool stop, StopRequested());
  return stop ? InterruptedAt(progress, batches_done) : absl::OkStatus();
}

absl::StatusOr<TrainProgress> RunEpochs(
    const EpochLoopOptions& options, torch::nn::Module& module, torch::optim::Optimizer& optimizer,
    const std::function<absl::Status(int64_t epoch, TrainProgress& progress)>& run_epoch) {
  const util::ScopedInterruptHandlers handlers;  // SIGINT / SIGTERM: checkpoint, then stop
  // StopIfInterrupted consults this loop's agreement while it runs.
  const auto* outer_agreement = current_agreement;
  current_agreement = options.agree_interrupt ? &options.agree_interrupt : nullptr;
  const absl::Cleanup restore = [outer_agreement] { current_agreement = outer_agreement; };
  TrainProgress progress;
  const bool checkpointing = !options.checkpoint_path.empty();
  auto save = [&]() {
    if (!options.write_checkpoints) return absl::OkStatus();
    return SaveCheckpoint(options.checkpoint_path, module, optimizer, progress,
                          options.save_extra ? options.save_extra() : TensorMap());
  };
  if (options.resume && checkpointing && data::FileExists(options.checkpoint_path)) {
    TensorMap extra;
    ASSIGN_OR_RETURN(progress, LoadCheckpoint(options.checkpoint_path, module, optimizer, &extra));
    if (options.restore_extra) RETURN_IF_ERROR(options.restore_extra(extra));
    LOG(INFO) << "resumed from " << options.checkpoint_path << " after epoch " << progress.epoch
              << (progress.batch > 0 ? absl::StrCat(" and ", progress.batch, " batches of the next")
                                     : "")
              << " (step " << progress.step << ")";
  } else if (options.resume) {
    LOG(INFO) << "--resume: no checkpoint yet in " << options.checkpoint_path
              << ", starting from epoch 1";
  }
  if (options.on_start) RETURN_IF_ERROR(options.on_start());
  for (int64_t epoch = progress.epoch; epoch < options.epochs; ++epoch) {
    const absl::Status status = run_epoch(epoch, progress);
    if (util::IsInterrupted(status)) {
      if (checkpointing) RETURN_IF_ERROR(save());
      return status;
    }
    RETURN_IF_ERROR(status);
    progress.epoch = epoch + 1;
    progress.batch = 0;
    const bool due = progress.epoch % std::max<int64_t>(1, options.checkpoint_every) == 0 ||
                     progress.epoch == options.epochs;
    if (checkpointing && due) RETURN_IF_ERROR(save());
    if (progress.epoch == options.epochs) break;
    ASSIGN_OR_RETURN(const bool stop, StopRequested());
    if (stop) {
      if (checkpointing && !due) RETURN_IF_ERROR(save());
      return util::InterruptedError(
          absl::StrCat("after epoch ", progress.epoch, " (step ", progress.step, ")"));
    }
  }
  return progress;
}

}  // namespace common::train
