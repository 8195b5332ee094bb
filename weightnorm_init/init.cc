#include "weightnorm_init/init.h"

#include <torch/nn/init.h>

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace weightnorm_init {
namespace {

void InitDirection(torch::Tensor& v, Direction direction, int64_t fan_in) {
  switch (direction) {
    case Direction::kHe:  // N(0, 2 / fan_in)
      torch::nn::init::kaiming_normal_(v, 0.0, torch::kFanIn, torch::kReLU);
      break;
    case Direction::kOrthogonal:  // rows (or columns) of the [out, in*k*k] view orthonormal
      torch::nn::init::orthogonal_(v, 1.0);
      break;
    case Direction::kScaledNormal:  // same as reference proposed_init_wn; scale irrelevant under WN
      v.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(fan_in)));
      break;
  }
}

// Per-channel mean and population std of y over every dimension but 1: [C] each.
std::pair<torch::Tensor, torch::Tensor> ChannelMoments(const torch::Tensor& y) {
  std::vector<int64_t> dims = {0};
  for (int64_t d = 2; d < y.dim(); ++d) dims.push_back(d);
  const torch::Tensor mean = y.mean(dims);
  const torch::Tensor std = y.var(dims, /*unbiased=*/false).sqrt();
  return {mean, std};
}

}  // namespace

absl::StatusOr<InitScheme> ParseInitScheme(const std::string& name, bool weight_norm, bool backward,
                                           const std::string& extra) {
  InitScheme s;
  s.name = name;
  if (name == "he" || name == "he_datadep" || name == "he_proposed") {
    s.direction = name == "he_proposed" ? Direction::kScaledNormal : Direction::kHe;
  } else if (name == "orthogonal" || name == "orthogonal_datadep" ||
             name == "orthogonal_proposed") {
    s.direction = Direction::kOrthogonal;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--init must be he, orthogonal, he_datadep, orthogonal_datadep, he_proposed or "
        "orthogonal_proposed, got '",
        name, "'"));
  }
  if (absl::EndsWith(name, "_proposed")) {
    s.gain = backward ? Gain::kBackward : Gain::kProposed;
  } else if (absl::EndsWith(name, "_datadep")) {
    s.gain = Gain::kDataDependent;
  } else {
    s.gain = Gain::kDefault;
  }
  if (s.gain != Gain::kDefault && !weight_norm) {
    return absl::InvalidArgumentError(
        absl::StrCat("--init=", name,
                     " sets the weight-norm gain and needs --weight_norm (the reference "
                     "asserts: 'proposed and datadep inits require weight norm')"));
  }
  if (extra != "" && extra != "hanin") {
    return absl::InvalidArgumentError(
        absl::StrCat("--init_extra_param must be empty or hanin, got '", extra, "'"));
  }
  s.hanin = extra == "hanin";
  return s;
}

double ResidualGamma(int64_t blocks_per_stage, int64_t block, bool hanin) {
  if (hanin) return std::pow(0.9, 2.0 * static_cast<double>(block));
  return 1.0 / static_cast<double>(blocks_per_stage);
}

double ProposedGain(double gamma, int64_t fan_in, int64_t fan_out) {
  return std::sqrt(gamma * static_cast<double>(fan_in) / static_cast<double>(fan_out));
}

torch::Tensor InitLayer(WnLayer& layer, const InitScheme& scheme, double gamma,
                        const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  layer->bias.zero_();
  InitDirection(layer->direction(), scheme.direction, layer->fan_in());
  if (layer->options.weight_norm()) {
    torch::Tensor& g = layer->weight_g;
    switch (scheme.gain) {
      case Gain::kDefault:
        g.copy_(RowNorms(layer->weight_v));
        break;
      case Gain::kProposed:
        g.fill_(ProposedGain(gamma, layer->fan_in(), layer->fan_out()));
        break;
      case Gain::kBackward:
        g.fill_(std::sqrt(gamma));
        break;
      case Gain::kDataDependent: {
        TORCH_CHECK(x.defined(), "data-dependent init of ", layer->options.in(), "->",
                    layer->options.out(), " needs the init batch");
        g.fill_(1.0);
        auto [mean, std] = ChannelMoments(layer->forward(x));
        g.copy_((1.0 / std).view_as(g));  // same as reference: no epsilon
        layer->bias.copy_(-mean / std);
        break;
      }
    }
  }
  return x.defined() ? layer->forward(x) : torch::Tensor();
}

}  // namespace weightnorm_init
