#include "icnn/signal_propagation.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/util/status_macros.h"
#include "icnn/convex_init.h"

namespace icnn {
namespace {

constexpr int64_t kWidths[] = {200, 400, 300, 400, 100};  // same as reference

LayerSignal Statistics(const torch::Tensor& s) {
  const torch::Tensor mean = s.mean(0);
  const torch::Tensor centred = s - mean;
  const torch::Tensor cov = centred.t().mm(centred) / s.size(0);
  const torch::Tensor sd = cov.diagonal().clamp_min(1e-30).sqrt();
  const torch::Tensor corr = cov / sd.unsqueeze(0) / sd.unsqueeze(1);
  const int64_t n = s.size(1);
  LayerSignal out;
  out.mean_sq = mean.square().mean().item<double>();
  out.variance = cov.diagonal().mean().item<double>();
  out.mean_correlation = ((corr.sum() - corr.diagonal().sum()) / (n * (n - 1))).item<double>();
  out.pre_activations = s;
  return out;
}

// Averages k x k blocks so that the heatmap has at most 100 rows.
torch::Tensor BlockAverage(const torch::Tensor& m) {
  const int64_t k = (m.size(0) + 99) / 100;
  return torch::avg_pool2d(m.unsqueeze(0).unsqueeze(0), {k, k}).squeeze(0).squeeze(0);
}

}  // namespace

std::vector<std::string> SigpropVariants() {
  return {"nonconvex", "icnn_default", "icnn_init", "icnn_init_bias_noise", "icnn_init_skip"};
}

std::vector<LayerSignal> PropagateSignal(const std::string& variant, const torch::Tensor& x,
                                         uint64_t seed) {
  torch::manual_seed(seed);  // (a) and (b) share their weights
  torch::NoGradGuard no_grad;
  const bool principled = variant.rfind("icnn_init", 0) == 0;
  const ConvexInitialiser init(1.0, 0.5, variant == "icnn_init_bias_noise" ? 0.5 : 0.0);
  std::vector<LayerSignal> out;
  torch::Tensor h = x;
  for (int i = 0; i < 4; ++i) {
    torch::Tensor w = torch::empty({kWidths[i + 1], kWidths[i]}),
                  b = torch::empty({kWidths[i + 1]});
    if (i == 0) {
      TraditionalInit(w, b, 1.0);  // LeCun, any sign
    } else if (principled) {
      const absl::Status s = init.Initialise(w, b, Positivity::kLazyClip);
      TORCH_CHECK(s.ok(), std::string(s.message()));
    } else {
      TraditionalInit(w, b, 2.0);  // He
      if (variant == "icnn_default") w.clamp_min_(0);
    }
    const torch::Tensor in = i == 0 ? h : torch::relu(h);
    torch::Tensor s = torch::addmm(b, in, w.t());
    if (variant == "icnn_init_skip" && i > 0) {
      torch::nn::Linear skip(torch::nn::LinearOptions(kWidths[0], kWidths[i + 1]).bias(false));
      s = s + skip->forward(x);
    }
    out.push_back(Statistics(s));
    h = s;
  }
  return out;
}

absl::Status WriteSigpropFigures(const std::string& dir, uint64_t seed) {
  RETURN_IF_ERROR(common::data::MakeDirs(dir));
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({1024, kWidths[0]});  // same as reference
  std::string csv = "variant,layer,mean_sq,variance,mean_correlation\n";
  for (const std::string& variant : SigpropVariants()) {
    const std::vector<LayerSignal> layers = PropagateSignal(variant, x, seed + 1);
    for (size_t l = 0; l < layers.size(); ++l) {
      const LayerSignal& s = layers[l];
      absl::StrAppend(&csv, variant, ",", l + 1, ",", s.mean_sq, ",", s.variance, ",",
                      s.mean_correlation, "\n");
      const std::string stem = absl::StrCat(dir, "/", variant, "_layer", l + 1);
      const torch::Tensor flat = s.pre_activations.flatten().to(torch::kFloat64).contiguous();
      const std::vector<double> values(flat.data_ptr<double>(),
                                       flat.data_ptr<double>() + flat.numel());
      RETURN_IF_ERROR(common::plot::Histogram(
          stem + "_hist.png",
          {absl::StrCat(variant, ", layer ", l + 1, ": pre-activations"), "s", "", false, false},
          values, 60));
      const torch::Tensor c = s.pre_activations - s.pre_activations.mean(0);
      const torch::Tensor cov = c.t().mm(c) / c.size(0);
      const torch::Tensor sd = cov.diagonal().clamp_min(1e-30).sqrt();
      const torch::Tensor corr =
          BlockAverage(cov / sd.unsqueeze(0) / sd.unsqueeze(1)).to(torch::kFloat64).contiguous();
      common::plot::Matrix m{
          corr.size(0), corr.size(1),
          std::vector<double>(corr.data_ptr<double>(), corr.data_ptr<double>() + corr.numel())};
      RETURN_IF_ERROR(
          common::plot::Heatmap(stem + "_corr.png",
                                {absl::StrCat(variant, ", layer ", l + 1, ": correlation"),
                                 "unit (block)", "unit (block)", false, false},
                                m));
    }
  }
  return common::data::WriteFileAtomically(dir + "/sigprop.csv", csv);
}

}  // namespace icnn
