#include "deep_weight_prior/fconv.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/dropout.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace deep_weight_prior {
namespace {

namespace F = torch::nn::functional;

bool IsBayes(const std::string& cfg, size_t index) {
  return cfg == "bayes" || cfg == "bayes-mtrunca" || (cfg == "bayes-1-0" && index == 0);
}

}  // namespace

absl::Status Validate(const FConvOptions& o) {
  const std::string& c = o.net_cfg;
  if (c != "vanilla" && c != "vanilla-do" && c != "bayes" && c != "bayes-1-0" && c != "bayes-mtrunca") {
    return absl::InvalidArgumentError(
        absl::StrCat("--net_cfg must be vanilla, vanilla-do, bayes, bayes-1-0 or bayes-mtrunca, got '", c, "'"));
  }
  if (c == "vanilla-do" && o.dropout.size() != 2) {
    return absl::InvalidArgumentError("--net_cfg=vanilla-do needs two dropout rates (--do)");
  }
  if (o.c1 < 1 || o.c2 < 1 || o.classes < 2) {
    return absl::InvalidArgumentError(absl::StrCat("--hid_dim must be two positive widths, got ", o.c1, " ", o.c2));
  }
  return absl::OkStatus();
}

FConvImpl::FConvImpl(FConvOptions options_) : options(std::move(options_)) {
  TORCH_CHECK(Validate(options).ok(), Validate(options).message());
  const int64_t in[2] = {1, options.c1}, out[2] = {options.c1, options.c2}, k[2] = {7, 5};
  for (size_t i = 0; i < 2; ++i) {
    ConvSlot slot;
    const std::string name = absl::StrCat("conv", i + 1);
    if (IsBayes(options.net_cfg, i)) {
      const Posterior p = options.net_cfg == "bayes-mtrunca" ? Posterior::kMuTruncAlpha : Posterior::kLogVariance;
      slot.bayes = register_module(name, BayesConv2d(BayesConv2dOptions(in[i], out[i], k[i]).posterior(p)
                                                         .logvar_init(options.logvar_init)));
    } else {
      slot.plain = register_module(name, torch::nn::Conv2d(torch::nn::Conv2dOptions(in[i], out[i], k[i])));
      torch::NoGradGuard no_grad;
      torch::nn::init::xavier_normal_(slot.plain->weight);  // same as reference weights_init
    }
    convs.push_back(slot);
  }
  classifier = register_module("classifier", torch::nn::Linear(options.c2 * 9, options.classes));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_normal_(classifier->weight);
}

torch::Tensor FConvImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (size_t i = 0; i < convs.size(); ++i) {
    h = F::max_pool2d(F::leaky_relu(convs[i].forward(h), F::LeakyReLUFuncOptions().negative_slope(0.01)),
                      F::MaxPool2dFuncOptions(2));
    if (!options.dropout.empty()) h = F::dropout(h, F::DropoutFuncOptions().p(options.dropout[i]).training(is_training()));
  }
  return classifier(h.flatten(1));
}

std::vector<torch::Tensor> FConvImpl::FeatureParameters() {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < convs.size(); ++i) {
    for (const torch::Tensor& p : (convs[i].bayes ? convs[i].bayes->parameters() : convs[i].plain->parameters())) {
      out.push_back(p);
    }
  }
  return out;
}

absl::Status InitKernels(FConvImpl& net, size_t index, const std::string& init, KernelVae vae,
                         const torch::Tensor& filters, torch::Generator& gen) {
  if (index >= net.convs.size()) return absl::InvalidArgumentError(absl::StrCat("no conv layer ", index));
  torch::NoGradGuard no_grad;
  torch::Tensor& w = net.convs[index].kernel();
  const int64_t n = w.size(0) * w.size(1), k = w.size(2);
  if (init == "xavier") {
    torch::nn::init::xavier_normal_(w);
  } else if (init == "vae") {
    if (vae.is_empty()) return absl::InvalidArgumentError(absl::StrCat("--init_list: vae for conv", index + 1, " needs --vae_list"));
    if (vae->options.kernel_dim() != k) {
      return absl::InvalidArgumentError(absl::StrCat("conv", index + 1, " has ", k, "x", k, " kernels but its VAE is ",
                                                     vae->options.kernel_dim(), "x", vae->options.kernel_dim()));
    }
    const torch::Tensor z = torch::randn({n, vae->options.z_dim(), 1, 1}, gen);
    w.copy_(vae->Decode(z).mean.reshape(w.sizes()));  // same as reference: the mean, unscaled
  } else if (init == "filters") {
    if (!filters.defined() || filters.dim() != 4 || filters.size(2) != k || filters.size(3) != k) {
      return absl::InvalidArgumentError(absl::StrCat("--filters_list for conv", index + 1, " must hold [N, 1, ", k, ", ", k, "] kernels"));
    }
    if (filters.size(0) < n) {
      return absl::InvalidArgumentError(absl::StrCat("conv", index + 1, " needs ", n, " source kernels, the file has ", filters.size(0)));
    }
    const torch::Tensor pick = torch::randperm(filters.size(0), gen, torch::kInt64).slice(0, 0, n);
    w.copy_(filters.index_select(0, pick).reshape(w.sizes()));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--init_list entries must be xavier, vae or filters, got '", init, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<torch::Tensor> NetworkKl(FConvImpl& net, const std::vector<LayerPrior>& priors) {
  torch::Tensor kl = torch::zeros({});
  for (size_t i = 0; i < net.convs.size(); ++i) {
    if (!net.convs[i].bayes || i >= priors.size()) continue;
    ASSIGN_OR_RETURN(torch::Tensor layer_kl, LayerKl(*net.convs[i].bayes, priors[i]));
    kl = kl + layer_kl;
  }
  return kl;
}

}  // namespace deep_weight_prior
