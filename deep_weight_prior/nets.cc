#include "deep_weight_prior/nets.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/dropout.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/util/status_macros.h"

namespace deep_weight_prior {
namespace {

namespace F = torch::nn::functional;

// One net_cfg of one model: which convs are Bayesian ('1' in `mask`) and the head's variant.
struct Cfg {
  const char* model;
  const char* name;
  const char* mask;
  bool mtrunca = false;  // mu-trunc-alpha posterior (for the log-uniform prior)
  bool nofc = false;     // cifarnetnew: a single linear classifier
  bool dropout = false;  // fconv: dropout after each block; cifarnetnew: in the classifier
};

// The reference's configurations (models/lenet.py, models/cifarnet.py).
const Cfg kCfgs[] = {
    {"fconv", "vanilla", "00"},
    {"fconv", "vanilla-do", "00", false, false, true},
    {"fconv", "bayes", "11"},
    {"fconv", "bayes-1-0", "10"},
    {"fconv", "bayes-mtrunca", "11", true},
    {"cifarnet", "vanilla", "0000"},
    {"cifarnet", "vanilla-do", "0000"},  // the reference builds no dropout here either
    {"cifarnet", "bayes", "1111"},
    {"cifarnet", "bayes1110", "1110"},
    {"cifarnet", "bayes1100", "1100"},
    {"cifarnet", "bayes1000", "1000"},
    {"cifarnet", "bayes-mtrunca", "1111", true},
    {"cifarnet", "bayes1100-mtrunca", "1100", true},
    {"cifarnet", "bayes1000-mtrunca", "1000", true},
    {"cifarnetnew", "vanilla", "000"},
    {"cifarnetnew", "vanilla-nofc", "000", false, true},
    {"cifarnetnew", "vanilla-do", "000", false, false, true},
    {"cifarnetnew", "bayes111", "111"},
    {"cifarnetnew", "bayes111-nofc", "111", false, true},
    {"cifarnetnew", "bayes110", "110"},
    {"cifarnetnew", "bayes100", "100"},
    {"cifarnetnew", "bayes100-nofc", "100", false, true},
    {"cifarnetnew", "bayes111-mutrunca", "111", true},
};

absl::StatusOr<Cfg> FindCfg(const NetOptions& o) {
  std::vector<std::string> names;
  for (const Cfg& c : kCfgs) {
    if (o.model != c.model) continue;
    if (o.net_cfg == c.name) return c;
    names.push_back(c.name);
  }
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--model must be fconv, cifarnet or cifarnetnew, got '", o.model, "'"));
  }
  return absl::InvalidArgumentError(absl::StrCat("--net_cfg for --model=", o.model,
                                                 " must be one of ", absl::StrJoin(names, ", "),
                                                 "; got '", o.net_cfg, "'"));
}

torch::nn::LeakyReLU Act() {
  return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.01));
}

torch::nn::Linear XavierLinear(int64_t in, int64_t out) {
  torch::nn::Linear l(in, out);
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_normal_(l->weight);  // same as reference weights_init
  return l;
}

}  // namespace

absl::Status Validate(const NetOptions& o) {
  ASSIGN_OR_RETURN(const Cfg cfg, FindCfg(o));
  if (o.model == "fconv" && cfg.dropout && o.dropout.size() != 2) {
    return absl::InvalidArgumentError("--net_cfg=vanilla-do needs two dropout rates (--do)");
  }
  if (o.model == "fconv" && (o.c1 < 1 || o.c2 < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--hid_dim must be two positive widths, got ", o.c1, " ", o.c2));
  }
  if (o.model != "fconv" && static_cast<int64_t>(128 * o.model_size) < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--model_size must give at least one channel, got ", o.model_size));
  }
  if (o.classes < 2) return absl::InvalidArgumentError("a classifier needs at least two classes");
  return absl::OkStatus();
}

DwpNetImpl::DwpNetImpl(NetOptions options_) : options(std::move(options_)) {
  const absl::Status valid = Validate(options);
  TORCH_CHECK(valid.ok(), valid.message());
  const Cfg cfg = *FindCfg(options);
  const bool fconv = options.model == "fconv";
  const int64_t d1 = static_cast<int64_t>(128 * options.model_size);
  const int64_t d2 = static_cast<int64_t>(256 * options.model_size);
  std::vector<int64_t> in, out, k;
  if (fconv) {
    in = {1, options.c1}, out = {options.c1, options.c2}, k = {7, 5};
  } else if (options.model == "cifarnet") {
    in = {3, d1, d2, d2}, out = {d1, d2, d2, 512}, k = {7, 5, 5, 5};
  } else {
    in = {3, d1, d2}, out = {d1, d2, d2}, k = {7, 5, 5};
  }
  for (size_t i = 0; i < in.size(); ++i) {
    ConvSlot slot;
    const std::string name = absl::StrCat("conv", i + 1);
    if (cfg.mask[i] == '1') {
      const Posterior p = cfg.mtrunca ? Posterior::kMuTruncAlpha : Posterior::kLogVariance;
      slot.bayes = register_module(name, BayesConv2d(BayesConv2dOptions(in[i], out[i], k[i])
                                                         .posterior(p)
                                                         .logvar_init(options.logvar_init)));
    } else {
      slot.plain =
          register_module(name, torch::nn::Conv2d(torch::nn::Conv2dOptions(in[i], out[i], k[i])));
      torch::NoGradGuard no_grad;
      torch::nn::init::xavier_normal_(slot.plain->weight);  // same as reference weights_init
    }
    convs.push_back(slot);
    if (options.model == "cifarnet") {
      conv_bns.push_back(
          register_module(absl::StrCat("bn", i + 1), torch::nn::BatchNorm2d(out[i])));
    }
  }
  if (fconv) {
    linear_classifier =
        register_module("classifier", XavierLinear(options.c2 * 9, options.classes));
    return;
  }
  torch::nn::Sequential head;
  if (options.model == "cifarnet") {
    head->push_back("fc1", XavierLinear(512, 512));
    head->push_back("bn1", torch::nn::BatchNorm1d(512));
    head->push_back("relu1", Act());
  } else if (!cfg.nofc) {
    if (cfg.dropout) head->push_back("do1", torch::nn::Dropout(0.5));
    head->push_back("fc1", XavierLinear(d2 * 25, 512));
    head->push_back("relu1", Act());
    if (cfg.dropout) head->push_back("do2", torch::nn::Dropout(0.2));
  }
  const int64_t features = options.model == "cifarnet" || !cfg.nofc ? 512 : d2 * 25;
  head->push_back("linear", XavierLinear(features, options.classes));
  mlp_classifier = register_module("classifier", head);
}

torch::Tensor DwpNetImpl::forward(const torch::Tensor& x) {
  const auto act = F::LeakyReLUFuncOptions().negative_slope(0.01);
  torch::Tensor h = x;
  for (size_t i = 0; i < convs.size(); ++i) {
    h = convs[i].forward(h);
    if (!conv_bns.empty()) h = conv_bns[i](h);
    h = F::leaky_relu(h, act);
    if (options.model == "fconv" || i == 0) h = F::max_pool2d(h, F::MaxPool2dFuncOptions(2));
    if (options.model == "fconv" && !options.dropout.empty()) {
      h = F::dropout(h, F::DropoutFuncOptions().p(options.dropout[i]).training(is_training()));
    }
  }
  h = h.flatten(1);
  return linear_classifier ? linear_classifier(h) : mlp_classifier->forward(h);
}

std::pair<int64_t, int64_t> DwpNetImpl::InputShape() const {
  return options.model == "fconv" ? std::make_pair(int64_t{1}, int64_t{28})
                                  : std::make_pair(int64_t{3}, int64_t{32});
}

std::vector<torch::Tensor> DwpNetImpl::RfeParameters() {
  std::vector<torch::Tensor> out =
      linear_classifier ? linear_classifier->parameters() : mlp_classifier->parameters();
  for (auto& bn : conv_bns) {
    for (const torch::Tensor& p : bn->parameters()) out.push_back(p);
  }
  return out;
}

std::vector<torch::Tensor> DwpNetImpl::FeatureParameters() {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < convs.size(); ++i) {
    for (const torch::Tensor& p :
         (convs[i].bayes ? convs[i].bayes->parameters() : convs[i].plain->parameters())) {
      out.push_back(p);
    }
    if (!conv_bns.empty()) {
      for (const torch::Tensor& p : conv_bns[i]->parameters()) out.push_back(p);
    }
  }
  return out;
}

absl::Status CheckVaeFits(DwpNetImpl& net, size_t index, const KernelVaeImpl& vae) {
  const int64_t k = net.convs[index].kernel().size(2);
  if (vae.options.kernel_dim() == k) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("conv", index + 1, " has ", k, "x", k, " kernels but its VAE is ",
                   vae.options.kernel_dim(), "x", vae.options.kernel_dim()));
}

absl::Status InitKernels(DwpNetImpl& net, size_t index, const std::string& init, KernelVae vae,
                         const torch::Tensor& filters, torch::Generator& gen) {
  if (index >= net.convs.size())
    return absl::InvalidArgumentError(absl::StrCat("no conv layer ", index));
  torch::NoGradGuard no_grad;
  torch::Tensor& w = net.convs[index].kernel();
  const int64_t n = w.size(0) * w.size(1), k = w.size(2);
  auto check_vae = [&]() -> absl::Status {
    if (vae.is_empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--init_list: ", init, " for conv", index + 1, " needs --vae_list"));
    }
    return CheckVaeFits(net, index, *vae);
  };
  // `n` source kernels drawn without replacement; the CIFAR models tile the file 10 times first
  // (same as reference), so a kernel can repeat there.
  auto draw_filters = [&]() -> absl::StatusOr<torch::Tensor> {
    if (!filters.defined() || filters.dim() != 4 || filters.size(2) != k || filters.size(3) != k) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--filters_list for conv", index + 1, " must hold [N, 1, ", k, ", ", k, "] kernels"));
    }
    const torch::Tensor pool =
        net.options.model == "fconv" ? filters : filters.repeat({10, 1, 1, 1});
    if (pool.size(0) < n) {
      return absl::InvalidArgumentError(
          absl::StrCat("conv", index + 1, " needs ", n, " source kernels, the file has ",
                       filters.size(0), net.options.model == "fconv" ? "" : " (x10)"));
    }
    return pool.index_select(0, torch::randperm(pool.size(0), gen, torch::kInt64).slice(0, 0, n));
  };
  if (init == "xavier") {
    torch::nn::init::xavier_normal_(w);
  } else if (init == "vae") {
    RETURN_IF_ERROR(check_vae());
    const torch::Tensor z = torch::randn({n, vae->options.z_dim(), 1, 1}, gen);
    w.copy_(vae->Decode(z).mean.reshape(w.sizes()));  // same as reference: the mean, unscaled
  } else if (init == "filters") {
    ASSIGN_OR_RETURN(const torch::Tensor picked, draw_filters());
    w.copy_(picked.reshape(w.sizes()));
  } else if (init == "recon") {
    // Reconstructions of drawn source kernels: the decoder mean at z ~ q(z | w) (same as
    // reference).
    RETURN_IF_ERROR(check_vae());
    ASSIGN_OR_RETURN(const torch::Tensor picked, draw_filters());
    const Gaussian q = vae->Encode(picked);
    const torch::Tensor z = q.mean + q.var.sqrt() * torch::randn(q.mean.sizes(), gen);
    w.copy_(vae->Decode(z).mean.reshape(w.sizes()));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--init_list entries must be xavier, vae, filters or recon, got '", init, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> NetworkKl(DwpNetImpl& net, const std::vector<LayerPrior>& priors) {
  torch::Tensor kl = torch::zeros({});
  for (size_t i = 0; i < net.convs.size(); ++i) {
    if (!net.convs[i].bayes || i >= priors.size()) continue;
    ASSIGN_OR_RETURN(torch::Tensor layer_kl, LayerKl(*net.convs[i].bayes, priors[i]));
    kl = kl + layer_kl;
  }
  return kl;
}

}  // namespace deep_weight_prior
