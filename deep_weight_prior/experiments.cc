#include "deep_weight_prior/experiments.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/data/augment.h"
#include "common/data/file_bytes.h"
#include "common/dist/gradient_sync.h"
#include "common/dist/process_group.h"
#include "common/train/checkpoint.h"
#include "common/train/lr_schedule.h"
#include "common/train/metrics.h"
#include "common/train/progress.h"
#include "common/train/run_dir.h"
#include "common/util/status_macros.h"

namespace deep_weight_prior {
namespace {

namespace F = torch::nn::functional;
using common::data::InMemoryDataset;

// One progress line (common/train/progress.h) over the steps a possibly resumed run still has to
// take: `step` counts all steps, the line only those of this process.
class StepProgress {
 public:
  StepProgress(std::string label, int64_t total_steps)
      : label_(std::move(label)), total_(total_steps) {}
  void Update(int64_t step, const std::string& status) {
    if (!line_) {
      first_ = step - 1;
      line_.emplace(label_, total_ - first_);
    }
    line_->Update(step - first_, status);
  }
  void Finish(const std::string& status) {
    if (line_) line_->Finish(status);
  }

 private:
  std::string label_;
  int64_t total_, first_ = 0;
  std::optional<common::train::ProgressLine> line_;
};

int64_t StepsPerEpoch(int64_t n, int64_t bs) { return (n + bs - 1) / bs; }

// The reference's evaluation schedule: after the first epoch (or step) and every eval_freq-th;
// never when eval_freq is 0.
bool EvaluationDue(int64_t count, int64_t eval_freq) {
  return eval_freq > 0 && (count == 1 || count % eval_freq == 0);
}

// Accuracy and mean -log probability of the true class of the `samples`-pass ensemble. With a
// data-parallel `world`, each rank takes a contiguous share of the batches of 1000 and the sums
// are taken over the ranks (BatchNorm statistics: rank 0's).
absl::StatusOr<std::pair<double, double>> TestAccuracyAndNll(
    DwpNetImpl& net, const InMemoryDataset& test, int samples,
    common::dist::ProcessGroup* world = nullptr) {
  common::dist::ProcessGroup one;
  common::dist::ProcessGroup& group = world ? *world : one;
  RETURN_IF_ERROR(group.BroadcastBuffers(net));
  torch::NoGradGuard no_grad;
  double correct = 0, nll = 0;
  const auto batches = test.EpochBatches(1000, /*shuffle=*/false, 0, 0);
  const auto [first, end] = common::dist::ShardRange(static_cast<int64_t>(batches.size()),
                                                     group.rank(), group.world_size());
  for (int64_t k = first; k < end; ++k) {
    const common::data::Batch b = test.Get(batches[k]);
    const torch::Tensor p = EnsembleProbabilities(net, b.inputs, samples);
    correct += static_cast<double>(common::train::CountCorrect(p, b.targets));
    nll -= p.gather(1, b.targets.unsqueeze(1)).clamp_min(1e-12).log().sum().item<double>();
  }
  ASSIGN_OR_RETURN(const std::vector<double> sums, group.SumDoubles({correct, nll}));
  const double n = static_cast<double>(test.size());
  return std::pair<double, double>{sums[0] / n, sums[1] / n};
}

double TestAccuracy(DwpNetImpl& net, const InMemoryDataset& test, int samples) {
  return TestAccuracyAndNll(net, test, samples).value().first;  // one process: cannot fail
}

// The ensemble's accuracy and NLL from the same `ens` passes, then one stochastic pass and the
// deterministic means.
BnnResult EvaluateBnn(DwpNetImpl& net, const InMemoryDataset& test, int ens) {
  BnnResult r;
  net.eval();  // BatchNorm and dropout; the posteriors stay stochastic (SetStochastic decides)
  std::tie(r.ens_acc, r.test_nll) = TestAccuracyAndNll(net, test, ens).value();  // one process
  r.samp_acc = TestAccuracy(net, test, 1);
  SetStochastic(net, false);
  r.det_acc = TestAccuracy(net, test, 1);
  SetStochastic(net, true);
  net.train();
  return r;
}

absl::StatusOr<std::string> YamlValue(const std::string& text, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, key + ":")) return std::string(absl::StripAsciiWhitespace(line));
  }
  return absl::NotFoundError(absl::StrCat("params.yaml has no '", key, "'"));
}

absl::StatusOr<KernelVaeOptions> VaeOptionsFromDir(const std::string& dir) {
  int64_t k = 0, z = 0, h = 0;
  double var = 0;
  if (common::data::FileExists(dir + "/vae.json")) {
    ASSIGN_OR_RETURN(const nlohmann::json j, common::train::ReadJsonFile(dir + "/vae.json"));
    k = j.value("kernel_dim", 0), z = j.value("z_dim", 0), h = j.value("hidden_dim", 0),
    var = j.value("var", 0.0);
  } else {  // the reference's params.yaml
    if (!common::data::FileExists(dir + "/params.yaml")) {
      return absl::NotFoundError(absl::StrCat(
          dir, ": no vae.json or params.yaml (a kernel VAE directory from train_vae)"));
    }
    ASSIGN_OR_RETURN(std::string text, common::data::ReadFileBytes(dir + "/params.yaml"));
    std::string ks, zs, hs;
    ASSIGN_OR_RETURN(ks, YamlValue(text, "kernel_dim"));
    ASSIGN_OR_RETURN(zs, YamlValue(text, "z_dim"));
    ASSIGN_OR_RETURN(hs, YamlValue(text, "hidden_dim"));
    if (!absl::SimpleAtoi(ks, &k) || !absl::SimpleAtoi(zs, &z) || !absl::SimpleAtoi(hs, &h)) {
      return absl::DataLossError(
          absl::StrCat(dir, "/params.yaml: kernel_dim, z_dim, hidden_dim must be integers"));
    }
    auto v = YamlValue(text, "var");
    if (v.ok() && *v != "train") absl::SimpleAtod(*v, &var);
  }
  KernelVaeOptions o(k, z, h);
  o.fixed_var(var);
  RETURN_IF_ERROR(Validate(o));
  return o;
}

}  // namespace

double LinearRuleLr(double lr, int64_t decrease_from, int64_t epochs, int64_t t) {
  if (epochs <= decrease_from) return lr;
  const double f =
      static_cast<double>(decrease_from - t) / static_cast<double>(epochs - decrease_from) + 1.0;
  return lr * std::max(0.0, std::min(f, 1.0));
}

absl::StatusOr<Domain> LoadDomain(const std::string& data_dir, const std::vector<int64_t>& classes,
                                  const std::string& model) {
  ASSIGN_OR_RETURN(common::data::ImageSplits raw, common::data::LoadImageSplits(data_dir));
  const int64_t channels = model == "fconv" ? 1 : 3, side = model == "fconv" ? 28 : 32;
  const torch::Tensor& x = raw.train_images;
  if (x.dim() != 4 || x.size(1) != channels || x.size(2) != side || x.size(3) != side) {
    return absl::InvalidArgumentError(
        absl::StrCat("--model=", model, " needs ", channels, "x", side, "x", side, " images (",
                     model == "fconv" ? "MNIST-style" : "CIFAR", "), ", data_dir, " holds ",
                     raw.format, " images of ", absl::StrJoin(x.sizes().vec(), "x")));
  }
  auto select = [&](const torch::Tensor& images, const torch::Tensor& labels) {
    torch::Tensor keep = torch::zeros_like(labels, torch::kBool),
                  mapped = torch::full_like(labels, -1);
    for (size_t i = 0; i < classes.size(); ++i) {
      keep |= labels == classes[i];
      mapped.masked_fill_(labels == classes[i], static_cast<int64_t>(i));
    }
    return InMemoryDataset(common::data::ScaleToUnit(images.index({keep})), mapped.index({keep}));
  };
  for (int64_t c : classes) {
    if (c < 0 || c >= raw.num_classes)
      return absl::InvalidArgumentError(absl::StrCat("no class ", c, " in ", data_dir));
  }
  return Domain{select(raw.train_images, raw.train_labels),
                select(raw.test_images, raw.test_labels), static_cast<int64_t>(classes.size())};
}

absl::StatusOr<InMemoryDataset> FewShot(const InMemoryDataset& train, int64_t n, uint64_t seed) {
  if (n <= 0 || n >= train.size()) return train;
  ASSIGN_OR_RETURN(torch::Tensor idx, common::data::StratifiedSubset(train.targets(), n, seed));
  return train.Subset(idx);
}

torch::Tensor EnsembleProbabilities(DwpNetImpl& net, const torch::Tensor& x, int samples) {
  torch::Tensor p = torch::softmax(net.forward(x), 1);
  for (int t = 1; t < samples; ++t) p = p + torch::softmax(net.forward(x), 1);
  return p / static_cast<double>(samples);  // mean of probabilities (same as reference)
}

absl::Status ApplyKernelInit(DwpNetImpl& net, const KernelInit& init, uint64_t seed) {
  torch::Generator gen = common::data::SeededGenerator(seed, /*stream=*/7);
  for (size_t i = 0; i < net.convs.size(); ++i) {
    const std::string kind = i < init.init_list.size() ? init.init_list[i] : "xavier";
    const KernelVae vae = i < init.vaes.size() ? init.vaes[i] : KernelVae(nullptr);
    const torch::Tensor filters = i < init.filters.size() ? init.filters[i] : torch::Tensor();
    RETURN_IF_ERROR(InitKernels(net, i, kind, vae, filters, gen));
  }
  return absl::OkStatus();
}

// Long because one epoch closure keeps the reference's running training metrics beside the loop.
absl::StatusOr<NetResult> TrainNet(const NetConfig& c, const KernelInit& init,
                                   const InMemoryDataset& train, const InMemoryDataset& test,
                                   const NetEvalSink& on_eval) {
  RETURN_IF_ERROR(Validate(c.net));
  if (c.epochs < 1 || c.bs < 1 || c.lr <= 0 || c.l2 < 0) {
    return absl::InvalidArgumentError("--epochs, --bs and --lr must be positive and --l2 >= 0");
  }
  if (c.aug && c.net.model == "fconv")
    return absl::InvalidArgumentError("--aug is for the CIFAR models");
  if (c.dwp_reg < 0) return absl::InvalidArgumentError("--dwp_reg must be >= 0");
  if (c.eval_freq < 0)
    return absl::InvalidArgumentError(absl::StrCat("--eval_freq must be >= 0, got ", c.eval_freq));
  // Data-parallel with torchrun / srun: every rank trains on its share of each batch (the
  // caller writes the run directory on rank 0 only). One process: world size 1, the plain path.
  ASSIGN_OR_RETURN(common::dist::ProcessGroup * world, common::dist::World());
  torch::manual_seed(c.seed);
  NetResult r{DwpNet(c.net)};
  RETURN_IF_ERROR(ApplyKernelInit(*r.net, init, c.seed));
  std::vector<std::pair<size_t, KernelVae>> regularisers;  // (conv, frozen VAE) for --dwp_reg
  if (c.dwp_reg > 0) {
    for (size_t i = 0; i < r.net->convs.size() && i < init.vaes.size(); ++i) {
      if (init.vaes[i].is_empty()) continue;
      if (const absl::Status fits = CheckVaeFits(*r.net, i, *init.vaes[i]); !fits.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("--dwp_reg: ", fits.message()));
      }
      KernelVae vae = init.vaes[i];
      Freeze(vae);
      regularisers.emplace_back(i, vae);
    }
    if (regularisers.empty())
      return absl::InvalidArgumentError("--dwp_reg needs --vae_list (one VAE per conv)");
  }
  std::vector<torch::Tensor> params = r.net->parameters();
  if (c.rfe) {  // the conv layers stay at their initialisation
    for (torch::Tensor& p : r.net->FeatureParameters()) p.requires_grad_(false);
    for (torch::Tensor& p : r.net->RfeParameters()) p.requires_grad_(true);  // BN in features
    params = r.net->RfeParameters();
  }
  torch::optim::Adam adam(params, torch::optim::AdamOptions(c.lr));
  common::dist::GradientSync sync(*world, params);
  torch::Generator aug_gen = common::data::SeededGenerator(c.seed, /*stream=*/11);
  StepProgress line("train_net", c.epochs * StepsPerEpoch(train.size(), c.bs));
  auto run_epoch = [&](int64_t epoch, common::train::TrainProgress& progress) -> absl::Status {
    NetEval e;
    e.epoch = epoch + 1, e.lr = LinearRuleLr(c.lr, c.decrease_from, c.epochs, epoch);
    common::train::SetLearningRate(adam, e.lr);
    double seen = 0, loss_sum = 0, nll_sum = 0, correct = 0;
    auto evaluate = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(const std::vector<double> sums,
                       world->SumDoubles({seen, loss_sum, nll_sum, correct}));
      e.step = progress.step, e.loss = sums[1] / sums[0], e.train_nll = sums[2] / sums[0],
      e.train_acc = sums[3] / sums[0];
      r.net->eval();
      ASSIGN_OR_RETURN(std::tie(e.test_acc, e.test_nll),
                       TestAccuracyAndNll(*r.net, test, 1, world));
      r.net->train();
      r.curve.emplace_back(e.step, e.test_acc);
      return on_eval ? on_eval(e) : absl::OkStatus();
    };
    const std::vector<torch::Tensor> batches =
        train.EpochBatches(c.bs, /*shuffle=*/true, c.seed, epoch);
    const size_t start =
        static_cast<size_t>(common::train::StartBatch(progress));  // > 0: resumed mid-epoch
    for (size_t i = start; i < batches.size(); ++i) {
      if (i > start)
        RETURN_IF_ERROR(common::train::StopIfInterrupted(progress, static_cast<int64_t>(i)));
      // Data-parallel: every rank augments the whole batch (the draws of one process) and
      // trains on its rows; the loss terms that do not depend on the batch (l2, dwp_reg) add up
      // to theirs since the ranks' weights sum to 1.
      const torch::Tensor& whole = batches[i];
      const common::data::Batch all = train.Get(whole);
      const torch::Tensor inputs = world->Shard(
          c.aug ? common::data::RandomCropFlipReflect(all.inputs, 4, aug_gen) : all.inputs);
      const torch::Tensor targets = world->Shard(all.targets);
      const int64_t mine = targets.size(0);
      if (mine == 0) {  // a batch smaller than the world: nothing here, the sum still
        adam.zero_grad();
        RETURN_IF_ERROR(sync.Backward(torch::Tensor(), 0, whole.size(0)));
        adam.step();
        ++progress.step;
        continue;
      }
      const torch::Tensor logits = r.net->forward(inputs);
      const torch::Tensor nll = F::cross_entropy(logits, targets);
      torch::Tensor loss = nll;
      if (c.l2 > 0 && !c.rfe) {
        double l2 = 0;
        for (const torch::Tensor& p : r.net->FeatureParameters()) {
          const torch::Tensor sq = p.pow(2).sum();
          loss = loss + c.l2 * sq;
          l2 += sq.item<double>();
        }
        e.l2_norm = l2;
      }
      if (!regularisers.empty() && !c.rfe) {
        torch::Tensor reg = torch::zeros({});
        for (auto& [i, vae] : regularisers) {
          const torch::Tensor& w = r.net->convs[i].kernel();
          reg = reg + vae->Loss(w.reshape({-1, 1, w.size(2), w.size(3)})).total();
        }
        r.dwp_reg = e.dwp_reg = reg.item<double>();
        loss = loss + c.dwp_reg * reg;
      }
      adam.zero_grad();
      RETURN_IF_ERROR(sync.Backward(loss, mine, whole.size(0)));
      adam.step();
      ++progress.step;
      const double n = static_cast<double>(mine);
      seen += n, loss_sum += loss.item<double>() * n, nll_sum += nll.item<double>() * n;
      line.Update(progress.step, absl::StrFormat("epoch %d loss %.4f", epoch + 1, loss_sum / seen));
      correct += static_cast<double>(common::train::CountCorrect(logits.detach(), targets));
      if (c.fastconv && EvaluationDue(progress.step, c.eval_freq)) RETURN_IF_ERROR(evaluate());
    }
    return !c.fastconv && EvaluationDue(epoch + 1, c.eval_freq) ? evaluate() : absl::OkStatus();
  };
  common::train::EpochLoopOptions loop{c.epochs, c.checkpoint_path, c.resume};
  loop.write_checkpoints = world->is_main();
  loop.agree_interrupt = world->InterruptAgreement();  // all ranks stop at one step
  loop.on_start = [&] { return world->BroadcastModule(*r.net); };
  // The augmentation generator runs across epochs: its state is part of the checkpoint, so a
  // resumed --aug run draws the crops an uninterrupted one would.
  loop.save_extra = [&aug_gen] {
    return common::train::TensorMap{{"augment_rng", aug_gen.get_state()}};
  };
  loop.restore_extra = [&aug_gen](const common::train::TensorMap& extra) {
    if (const auto it = extra.find("augment_rng"); it != extra.end()) aug_gen.set_state(it->second);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(common::train::RunEpochs(loop, *r.net, adam, run_epoch).status());
  r.net->eval();
  ASSIGN_OR_RETURN(std::tie(r.test_acc, std::ignore), TestAccuracyAndNll(*r.net, test, 1, world));
  line.Finish(absl::StrFormat("test acc %.4f", r.test_acc));
  return r;
}

// -ELBO of `kernels` in chunks of 512 (the reference's test batch), noise from `gen`.
VaeLoss SummedVaeLoss(KernelVae& vae, const torch::Tensor& kernels, torch::Generator& gen) {
  torch::NoGradGuard no_grad;
  VaeLoss sum{torch::zeros({}), torch::zeros({})};
  for (int64_t start = 0; start < kernels.size(0); start += 512) {
    const torch::Tensor w =
        kernels.narrow(0, start, std::min<int64_t>(512, kernels.size(0) - start));
    const VaeLoss l = vae->Loss(w, torch::randn({w.size(0), vae->options.z_dim(), 1, 1}, gen));
    sum.nll += l.nll, sum.kl += l.kl;
  }
  return sum;
}

absl::StatusOr<VaeResult> TrainVae(const VaeConfig& c, const KernelSplit& data,
                                   const VaeEpochSink& on_epoch) {
  RETURN_IF_ERROR(Validate(c.vae));
  if (data.train.size(2) != c.vae.kernel_dim()) {
    return absl::InvalidArgumentError(absl::StrCat("--kernel_dim=", c.vae.kernel_dim(),
                                                   " but the kernels are ", data.train.size(2), "x",
                                                   data.train.size(2)));
  }
  if (c.epochs < 1 || c.bs < 1 || c.lr <= 0) {
    return absl::InvalidArgumentError("--num_epochs, --batch_size and --lr must be positive");
  }
  torch::manual_seed(c.seed);
  VaeResult r{KernelVae(c.vae)};
  torch::optim::Adam adam(r.vae->parameters(), torch::optim::AdamOptions(c.lr));
  const InMemoryDataset train(data.train, torch::zeros({data.train.size(0)}, torch::kInt64));
  const double n_train = static_cast<double>(data.train.size(0)),
               n_test = static_cast<double>(data.test.size(0));
  StepProgress line("train_vae", c.epochs * StepsPerEpoch(data.train.size(0), c.bs));
  auto run_epoch = [&](int64_t epoch, common::train::TrainProgress& progress) -> absl::Status {
    double loss_sum = 0;
    const std::vector<torch::Tensor> batches =
        train.EpochBatches(c.bs, /*shuffle=*/true, c.seed, epoch);
    const size_t start =
        static_cast<size_t>(common::train::StartBatch(progress));  // > 0: resumed mid-epoch
    for (size_t i = start; i < batches.size(); ++i) {
      if (i > start)
        RETURN_IF_ERROR(common::train::StopIfInterrupted(progress, static_cast<int64_t>(i)));
      const torch::Tensor& idx = batches[i];
      const torch::Tensor loss =
          r.vae->Loss(train.Get(idx).inputs).total();  // summed (same as reference)
      adam.zero_grad();
      loss.backward();
      adam.step();
      const double batch_loss = loss.item<double>();
      loss_sum += batch_loss;
      ++progress.step;
      line.Update(progress.step, absl::StrFormat("epoch %d -ELBO/kernel %.3f", epoch + 1,
                                                 batch_loss / static_cast<double>(idx.size(0))));
    }
    if (!on_epoch) return absl::OkStatus();
    torch::Generator gen =
        common::data::SeededGenerator(c.seed, /*stream=*/1000 + static_cast<uint64_t>(epoch));
    const VaeLoss test = SummedVaeLoss(r.vae, data.test, gen);
    return on_epoch({epoch + 1, loss_sum / n_train, test.total().item<double>() / n_test,
                     test.nll.item<double>() / n_test, test.kl.item<double>() / n_test});
  };
  RETURN_IF_ERROR(
      common::train::RunEpochs({c.epochs, c.checkpoint_path, c.resume}, *r.vae, adam, run_epoch)
          .status());
  torch::NoGradGuard no_grad;
  r.train_loss_per_kernel = r.vae->Loss(data.train).total().item<double>() / n_train;
  r.test_loss_per_kernel = r.vae->Loss(data.test).total().item<double>() / n_test;
  line.Finish(absl::StrFormat("-ELBO/kernel train %.3f test %.3f", r.train_loss_per_kernel,
                              r.test_loss_per_kernel));
  return r;
}

absl::StatusOr<VaeFit> HeldOutFit(KernelVae& vae, const torch::Tensor& kernels, int samples,
                                  uint64_t seed) {
  const int64_t k = vae->options.kernel_dim();
  if (kernels.dim() != 4 || kernels.size(1) != 1 || kernels.size(2) != k || kernels.size(3) != k) {
    return absl::InvalidArgumentError(
        absl::StrCat("held-out kernels must be [N, 1, ", k, ", ", k, "] for a ", k, "x", k,
                     " VAE, got [", absl::StrJoin(kernels.sizes().vec(), ", "), "]"));
  }
  if (kernels.size(0) == 0 || samples < 1) {
    return absl::InvalidArgumentError("no held-out kernels, or samples < 1");
  }
  torch::Generator gen = common::data::SeededGenerator(seed, /*stream=*/2000);
  const torch::Tensor w = kernels.to(torch::kFloat32);
  VaeFit fit;
  fit.kernels = w.size(0);
  const double per = 1.0 / (static_cast<double>(samples) * static_cast<double>(w.size(0)));
  for (int s = 0; s < samples; ++s) {
    const VaeLoss l = SummedVaeLoss(vae, w, gen);
    fit.nll += l.nll.item<double>() * per, fit.kl += l.kl.item<double>() * per;
  }
  fit.neg_elbo = fit.nll + fit.kl;
  return fit;
}

absl::Status SaveVae(const std::string& dir, KernelVae& vae) {
  RETURN_IF_ERROR(common::data::MakeDirs(dir));
  const KernelVaeOptions& o = vae->options;
  RETURN_IF_ERROR(common::train::WriteJsonFile(dir + "/vae.json", {{"kernel_dim", o.kernel_dim()},
                                                                   {"z_dim", o.z_dim()},
                                                                   {"hidden_dim", o.hidden_dim()},
                                                                   {"var", o.fixed_var()}}));
  return common::train::SaveStateDict(dir + "/vae_params.pt", *vae);
}

absl::StatusOr<KernelVae> LoadVae(const std::string& dir) {
  ASSIGN_OR_RETURN(KernelVaeOptions o, VaeOptionsFromDir(dir));
  KernelVae vae(o);
  // train_vae writes vae_params.pt; the reference repository distributes vae_params.torch (a
  // legacy torch pickle, read as it is).
  std::string params = dir + "/vae_params.pt";
  if (!common::data::FileExists(params) && common::data::FileExists(dir + "/vae_params.torch")) {
    params = dir + "/vae_params.torch";
  }
  RETURN_IF_ERROR(common::train::LoadStateDict(params, *vae));
  return vae;
}

absl::Status CopyPretrained(DwpNetImpl& net, const std::string& path) {
  ASSIGN_OR_RETURN(const common::train::TensorMap file, common::train::LoadTensorMap(path));
  auto params = net.named_parameters(), buffers = net.named_buffers();
  torch::NoGradGuard no_grad;
  for (const auto& [name, value] : file) {
    torch::Tensor* target = params.find(name);
    if (target == nullptr) target = buffers.find(name);
    if (target == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": '", name, "' is not in --model=", net.options.model,
                       " --net_cfg=", net.options.net_cfg, " (another architecture?)"));
    }
    if (target->sizes() != value.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": '", name, "' has shape ", absl::StrJoin(value.sizes().vec(), "x"), ", the net ",
          absl::StrJoin(target->sizes().vec(), "x"), " (check --hid_dim)"));
    }
    target->copy_(value);
  }
  for (const auto& p : params) {
    const std::string& name = p.key();
    const bool variance = name.size() >= 4 && name.compare(name.size() - 4, 4, ".rho") == 0;
    if (!variance && file.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, " lacks '", name, "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<BnnResult> TrainBnn(const BnnConfig& c, const KernelInit& init,
                                   const InMemoryDataset& train, const InMemoryDataset& test,
                                   const BnnEvalSink& on_eval) {
  RETURN_IF_ERROR(Validate(c.net));
  if (c.net.net_cfg.rfind("bayes", 0) != 0)
    return absl::InvalidArgumentError("train_bnn needs a bayes* --net_cfg");
  if (c.epochs < 1 || c.bs < 1 || c.lr <= 0 || c.ens < 1 || c.dwp_samples < 1) {
    return absl::InvalidArgumentError(
        "--epochs, --bs, --lr, --ens and --dwp_samples must be positive");
  }
  if (c.eval_freq < 0)
    return absl::InvalidArgumentError(absl::StrCat("--eval_freq must be >= 0, got ", c.eval_freq));
  torch::manual_seed(c.seed);
  DwpNet net(c.net);
  RETURN_IF_ERROR(ApplyKernelInit(*net, init, c.seed));
  if (!c.pretrained.empty()) RETURN_IF_ERROR(CopyPretrained(*net, c.pretrained));
  std::vector<LayerPrior> priors;
  for (size_t i = 0; i < net->convs.size(); ++i) {
    LayerPrior p{PriorKind::kStandardNormal, KernelVae(nullptr), c.dwp_samples};
    if (i < c.prior_list.size()) {
      ASSIGN_OR_RETURN(p.kind, ParsePrior(c.prior_list[i]));
    }
    if (p.kind == PriorKind::kDwp && i < init.vaes.size() && !init.vaes[i].is_empty()) {
      p.vae = init.vaes[i];
      Freeze(p.vae);
    }
    priors.push_back(p);
  }
  RETURN_IF_ERROR(NetworkKl(*net, priors).status());  // configuration errors before training
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(c.lr));
  const double n = static_cast<double>(train.size());
  double kl_value = 0;
  StepProgress line("train_bnn", c.epochs * StepsPerEpoch(train.size(), c.bs));
  auto run_epoch = [&](int64_t epoch, common::train::TrainProgress& progress) -> absl::Status {
    const double lr = LinearRuleLr(c.lr, c.decrease_from, c.epochs, epoch);
    common::train::SetLearningRate(adam, lr);
    double nll_sum = 0, kl_sum = 0;  // over the epoch's examples (the KL weighted by batch size)
    for (const torch::Tensor& idx : train.EpochBatches(c.bs, /*shuffle=*/true, c.seed, epoch)) {
      const common::data::Batch b = train.Get(idx);
      const torch::Tensor ce = F::cross_entropy(
          net->forward(b.inputs), b.targets, F::CrossEntropyFuncOptions().reduction(torch::kSum));
      ASSIGN_OR_RETURN(torch::Tensor kl, NetworkKl(*net, priors));
      adam.zero_grad();
      (ce * (n / static_cast<double>(idx.size(0))) + kl).backward();
      adam.step();
      const double batch_nll = ce.item<double>(), batch = static_cast<double>(idx.size(0));
      nll_sum += batch_nll;
      kl_value = kl.item<double>();
      kl_sum += kl_value * batch;
      ++progress.step;
      line.Update(progress.step, absl::StrFormat("epoch %d nll %.4f kl %.5g", epoch + 1,
                                                 batch_nll / batch, kl_value));
    }
    const int64_t done = epoch + 1;
    if (!EvaluationDue(done, c.eval_freq)) return absl::OkStatus();
    BnnEval e{done, lr, nll_sum / n, EvaluateBnn(*net, test, c.ens)};
    e.test.kl = kl_sum / n;
    return on_eval ? on_eval(e) : absl::OkStatus();
  };
  const common::train::EpochLoopOptions loop{c.epochs, c.checkpoint_path, c.resume,
                                             c.eval_freq > 0 ? c.eval_freq : c.epochs};
  RETURN_IF_ERROR(common::train::RunEpochs(loop, *net, adam, run_epoch).status());
  BnnResult r = EvaluateBnn(*net, test, c.ens);
  r.kl = kl_value;
  line.Finish(absl::StrFormat("ens[%d] test acc %.4f", c.ens, r.ens_acc));
  return r;
}

}  // namespace deep_weight_prior
