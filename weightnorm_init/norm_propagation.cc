#include "weightnorm_init/norm_propagation.h"

#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/data/dataset.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/util/status_macros.h"

namespace weightnorm_init {
namespace {

constexpr Setting kSettings[] = {Setting::kHe, Setting::kProposedOrthogonal, Setting::kProposedHe};

// A [rows, cols] direction matrix with unit rows: Haar-orthogonal (QR with sign fix, then
// transposed to the wanted shape) or Gaussian.
torch::Tensor UnitRows(int64_t rows, int64_t cols, bool orthogonal, torch::Generator& gen) {
  torch::Tensor w;
  if (orthogonal) {
    const torch::Tensor a =
        torch::randn({std::max(rows, cols), std::min(rows, cols)}, gen, torch::kFloat);
    auto [q, r] = torch::linalg_qr(a);
    q = q * torch::sign(torch::diagonal(r)).unsqueeze(0);
    w = rows >= cols ? q : q.t();
  } else {
    w = torch::randn({rows, cols}, gen, torch::kFloat);
  }
  return w / w.norm(2, 1, /*keepdim=*/true);
}

// Mean and std over rows of numer / denom ([samples] each).
void Record(NormCurve& curve, double index, const torch::Tensor& numer,
            const torch::Tensor& denom) {
  const torch::Tensor r = (numer / denom).to(torch::kDouble);
  curve.index.push_back(index);
  curve.mean.push_back(r.mean().item<double>());
  curve.std.push_back(r.std(/*unbiased=*/false).item<double>());
}

void Reverse(NormCurve& c) {
  std::reverse(c.index.begin(), c.index.end());
  std::reverse(c.mean.begin(), c.mean.end());
  std::reverse(c.std.begin(), c.std.end());
}

NormRatios Empty(Setting setting, int64_t width) {
  NormRatios r;
  r.forward.setting = r.backward.setting = setting;
  r.forward.width = r.backward.width = width;
  return r;
}

}  // namespace

std::string SettingName(Setting s) {
  switch (s) {
    case Setting::kHe:
      return "He (g=1)";
    case Setting::kProposedOrthogonal:
      return "Proposed (orthogonal)";
    case Setting::kProposedHe:
      return "Proposed (He)";
  }
  return "";
}

NormRatios MlpNormRatios(Setting setting, int64_t width, const SyntheticOptions& o,
                         uint64_t stream) {
  torch::NoGradGuard no_grad;
  torch::Generator gen = common::data::SeededGenerator(o.seed, stream);
  std::vector<int64_t> n = {o.input_dim};  // n[l]: width after layer l
  const torch::Tensor drawn =
      torch::randint(width - 50, width + 50, {o.mlp_depth}, gen, torch::kInt64);
  for (int64_t l = 0; l < o.mlp_depth; ++l) n.push_back(drawn[l].item<int64_t>());
  std::vector<torch::Tensor> w;  // w[l]: [n[l+1], n[l]]
  for (int64_t l = 0; l < o.mlp_depth; ++l) {
    w.push_back(UnitRows(n[l + 1], n[l], setting == Setting::kProposedOrthogonal, gen));
    if (setting != Setting::kHe) w.back() *= std::sqrt(2.0 * n[l] / n[l + 1]);  // gamma = 2
  }
  NormRatios r = Empty(setting, width);
  const torch::Tensor x = torch::randn({o.samples, o.input_dim}, gen, torch::kFloat);
  std::vector<torch::Tensor> h = {x};
  for (int64_t l = 0; l < o.mlp_depth; ++l) {
    h.push_back(torch::relu(h.back().matmul(w[l].t())));
    Record(r.forward, static_cast<double>(l + 1), h.back().norm(2, 1), x.norm(2, 1));
  }
  const torch::Tensor top = torch::randn({o.samples, n.back()}, gen, torch::kFloat);
  torch::Tensor delta = top;  // gradient at the top pre-activation
  for (int64_t l = o.mlp_depth - 1; l >= 1; --l) {
    delta = (h[l] > 0).to(torch::kFloat) * delta.matmul(w[l]);
    Record(r.backward, static_cast<double>(l), delta.norm(2, 1), top.norm(2, 1));
  }
  Reverse(r.backward);
  return r;
}

NormRatios ResNetNormRatios(Setting setting, int64_t width, const SyntheticOptions& o,
                            uint64_t stream) {
  torch::NoGradGuard no_grad;
  torch::Generator gen = common::data::SeededGenerator(o.seed, stream);
  const bool orth = setting == Setting::kProposedOrthogonal;
  const double b = static_cast<double>(o.resnet_blocks), n = static_cast<double>(o.input_dim);
  std::vector<torch::Tensor> w0, w1;
  for (int64_t k = 0; k < o.resnet_blocks; ++k) {
    w0.push_back(UnitRows(width, o.input_dim, orth, gen));
    w1.push_back(UnitRows(o.input_dim, width, orth, gen));
    if (setting != Setting::kHe) {
      w0.back() *= std::sqrt(2.0 * n / width);      // gamma = 2
      w1.back() *= std::sqrt(1.0 / b * width / n);  // gamma = 1/B
    }
  }
  NormRatios r = Empty(setting, width);
  const torch::Tensor x = torch::randn({o.samples, o.input_dim}, gen, torch::kFloat);
  std::vector<torch::Tensor> masks;  // 1[W0 h > 0] of every block
  torch::Tensor h = x;
  for (int64_t k = 0; k < o.resnet_blocks; ++k) {
    const torch::Tensor pre = h.matmul(w0[k].t());
    masks.push_back(pre > 0);
    h = h + torch::relu(pre).matmul(w1[k].t());
    Record(r.forward, static_cast<double>(k + 1), h.norm(2, 1), x.norm(2, 1));
  }
  const torch::Tensor top = torch::randn({o.samples, o.input_dim}, gen, torch::kFloat);
  torch::Tensor delta = top;                            // dL/dh^B
  for (int64_t k = o.resnet_blocks - 1; k >= 1; --k) {  // block k+1 maps h^k to h^(k+1)
    delta = delta + (masks[k].to(torch::kFloat) * delta.matmul(w1[k])).matmul(w0[k]);
    Record(r.backward, static_cast<double>(k), delta.norm(2, 1), top.norm(2, 1));
  }
  Reverse(r.backward);
  return r;
}

Figure1 RunFigure1(const SyntheticOptions& o) {
  Figure1 f;
  uint64_t stream = 0;
  for (int64_t width : o.widths) {
    for (Setting s : kSettings) {
      f.mlp.push_back(MlpNormRatios(s, width, o, ++stream));
      f.resnet.push_back(ResNetNormRatios(s, width, o, ++stream));
    }
  }
  return f;
}

namespace {

common::plot::Series Band(const NormCurve& c) {
  common::plot::Series s{
      absl::StrCat(SettingName(c.setting), ", m=", c.width), c.index, c.mean, {}, {}};
  for (size_t i = 0; i < c.mean.size(); ++i) {
    s.lower.push_back(c.mean[i] - c.std[i]);
    s.upper.push_back(c.mean[i] + c.std[i]);
  }
  return s;
}

common::plot::Panel MakePanel(const std::vector<NormRatios>& runs, bool forward, std::string title,
                              std::string xlabel, std::string ylabel, double y_min, double y_max) {
  common::plot::Panel p;
  p.axes = {std::move(title), std::move(xlabel), std::move(ylabel)};
  p.axes.y_min = y_min, p.axes.y_max = y_max;
  for (const NormRatios& r : runs) p.series.push_back(Band(forward ? r.forward : r.backward));
  p.legend = false;
  return p;
}

}  // namespace

absl::Status WriteFigure1(const Figure1& f, const std::string& dir) {
  RETURN_IF_ERROR(common::data::MakeDirs(dir));
  std::string csv = "model,pass,setting,width,index,mean,std\n";
  for (const auto& [model, runs] :
       {std::pair<std::string, const std::vector<NormRatios>*>{"mlp", &f.mlp},
        {"resnet", &f.resnet}}) {
    for (const NormRatios& r : *runs) {
      for (const auto& [pass, c] : {std::pair<std::string, const NormCurve*>{"forward", &r.forward},
                                    {"backward", &r.backward}}) {
        for (size_t i = 0; i < c->index.size(); ++i) {
          absl::StrAppend(&csv, model, ",", pass, ",", SettingName(c->setting), ",", c->width, ",",
                          c->index[i], ",", c->mean[i], ",", c->std[i], "\n");
        }
      }
    }
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(dir + "/figure1.csv", csv));
  std::vector<common::plot::Panel> panels = {
      MakePanel(f.mlp, true, "WN-MLP: forward", "layer i", "||h_i|| / ||x||", -0.1, 2),
      MakePanel(f.mlp, false, "WN-MLP: backward", "layer i", "||dh_i|| / ||dh_L||", -0.1, 2),
      MakePanel(f.resnet, true, "ResNet: forward", "block b", "||h_b|| / ||x||", 0.9, 4),
      MakePanel(f.resnet, false, "ResNet: backward", "block b", "||dh_b|| / ||dh_B||", 0.9, 4)};
  panels[2].legend = true;  // the only panel with an empty top right corner
  RETURN_IF_ERROR(common::plot::LinePlotGrid(dir + "/figure1.svg", 2, 2, panels));
  return common::plot::LinePlotGrid(dir + "/figure1.png", 2, 2, panels);
}

}  // namespace weightnorm_init
