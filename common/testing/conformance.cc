#include "common/testing/conformance.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/train/checkpoint.h"

namespace common::testing {

GradientCheck CheckGradients(const std::function<torch::Tensor(const TensorList&)>& f,
                             const TensorList& inputs, double eps, uint64_t seed) {
  TensorList x;
  for (const torch::Tensor& t : inputs) {
    x.push_back(t.detach().to(torch::kFloat64).requires_grad_(t.requires_grad()));
  }
  torch::Tensor out = f(x);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const torch::Tensor r = torch::randn(out.sizes(), gen, torch::kFloat64).to(out.device());
  TensorList wrt;
  for (const torch::Tensor& t : x) {
    if (t.requires_grad()) wrt.push_back(t);
  }
  const TensorList analytic = torch::autograd::grad({(out * r).sum()}, wrt, {}, false, false, true);
  GradientCheck result;
  torch::NoGradGuard no_grad;
  auto loss = [&] { return (f(x) * r).sum().item<double>(); };
  for (size_t k = 0; k < wrt.size(); ++k) {
    torch::Tensor flat = wrt[k].view(-1);
    const torch::Tensor g =
        analytic[k].defined() ? analytic[k].reshape(-1) : torch::zeros_like(flat);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double v = flat[i].item<double>();
      flat[i] = v + eps;
      const double up = loss();
      flat[i] = v - eps;
      const double down = loss();
      flat[i] = v;
      const double numeric = (up - down) / (2 * eps);
      result.max_abs_grad = std::max(result.max_abs_grad, std::abs(numeric));
      result.max_abs_error =
          std::max(result.max_abs_error, std::abs(numeric - g[i].item<double>()));
    }
  }
  return result;
}

std::string StateDictRoundTrip(const torch::nn::Module& source, torch::nn::Module& target,
                               const std::string& dir) {
  const std::string path = dir + "/state_dict_round_trip.pt";
  if (absl::Status s = train::SaveStateDict(path, source); !s.ok()) return s.ToString();
  if (absl::Status s = train::LoadStateDict(path, target); !s.ok()) return s.ToString();
  const train::TensorMap a = train::StateDict(source), b = train::StateDict(target);
  for (const auto& [key, value] : a) {
    if (!torch::equal(value, b.at(key))) return absl::StrCat(key, " differs after the round trip");
  }
  return "";
}

bool AllTensorsHaveDtype(const torch::nn::Module& module, torch::ScalarType dtype) {
  for (const auto& [key, value] : train::StateDict(module)) {
    if (value.scalar_type() != dtype) return false;
  }
  return true;
}

}  // namespace common::testing
