#include "excess_capacity/models.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace excess_capacity {
namespace {

double PoolOut(double size) { return std::floor((size - 1) / 2) + 1; }  // MaxPool2d(3, 2, 1)

torch::Tensor MaxPool3x3s2(const torch::Tensor& x) {
  return torch::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
}

// Same as reference: [maxpool2x2(x), maxpool2x2 padded by 1 then cropped], channels doubled,
// spatial size halved; cat(x, x) for 1x1 inputs. Fixed Lipschitz constant sqrt(2).
torch::Tensor PoolingShortcut(const torch::Tensor& x) {
  if (x.size(2) == 1 && x.size(3) == 1) return torch::cat({x, x}, 1);
  const int64_t h = x.size(2) / 2, w = x.size(3) / 2;
  const torch::Tensor a = torch::max_pool2d(x, {2, 2}, {2, 2});
  const torch::Tensor b =
      torch::max_pool2d(x, {2, 2}, {2, 2}, {1, 1}).narrow(2, 0, h).narrow(3, 0, w);
  return torch::cat({a, b}, 1);
}

double Product(const std::map<std::string, double>& values) {
  double p = 1;
  for (const auto& [name, v] : values) p *= v;
  return p;
}

// ------------------------------------------------------------------------------------------
class SimpleConvnet : public ConstrainedNetwork {
 public:
  SimpleConvnet(int depth, int64_t classes, int64_t in_channels, int64_t n_channels,
                const NetworkConstraints& c) {
    int index = 0;
    for (int block = 0; block < 5; ++block) {
      for (int d = 0; d < depth; ++d, ++index) {
        const bool first = block == 0 && d == 0;
        const std::string name = absl::StrCat("conv", index + 1);
        convs_.push_back(
            {name,
             register_module(name, ConstrainedConv2d(first ? in_channels : n_channels, n_channels,
                                                     3, d == 0 ? 2 : 1, c.Layer(first ? 0 : 1)))});
      }
    }
    body_ = convs_.size();
    if (c.simplex()) {
      simplex_ = register_module("cls", SimplexClassifier(n_channels, classes, c.lip[3]));
    } else {  // same as reference's simplex=False: a 1x1 conv on the 1x1 map
      convs_.push_back({"cls", register_module("cls", ConstrainedConv2d(n_channels, classes, 1, 1,
                                                                        c.Layer(3)))});
    }
    lip_conds_ = c;
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor h = x;
    for (size_t i = 0; i < body_; ++i) h = torch::relu(convs_[i].second->forward(h));
    if (simplex_) return simplex_->forward(h.flatten(1));
    return convs_.back().second->forward(h).flatten(1);
  }

  void Init(int64_t channels, int64_t height, int64_t width) override {
    TORCH_CHECK(height == 32 && width == 32, "simple_convnet expects 32x32 inputs, got ", height,
                "x", width);
    for (auto& [name, conv] : convs_) {
      const std::vector<int64_t> out = conv->Init(height, width);
      height = out[2];
      width = out[3];
    }
  }

  double Lip() override {  // product over every layer, the classifier included
    return Product(LayerLips()) * (simplex_ ? simplex_->Lip() : 1.0);
  }

  double LipExact() override {
    return Product(LayerExactLips()) * (simplex_ ? simplex_->Lip() : 1.0);
  }

  double LipCond() const override {
    double p = lip_conds_.lip[0] * std::pow(lip_conds_.lip[1], static_cast<double>(body_ - 1));
    return p * (simplex_ ? simplex_->Lip() : lip_conds_.lip[3]);
  }

 private:
  size_t body_ = 0;
  NetworkConstraints lip_conds_;
};

// ------------------------------------------------------------------------------------------
struct PreActBlock {
  ConstrainedConv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  bool downsample = false;  // stride 2: max-pool after conv1, pooling shortcut

  torch::Tensor Forward(const torch::Tensor& x) {
    const torch::Tensor pre = torch::relu(bn1 ? bn1->forward(x) : x);
    const torch::Tensor identity = downsample ? PoolingShortcut(pre) : x;  // same as reference
    torch::Tensor out = conv1->forward(pre);
    if (downsample) out = MaxPool3x3s2(out);
    out = conv2->forward(torch::relu(bn2 ? bn2->forward(out) : out));
    return out + identity;
  }
};

class NoStridePreActResNet18 : public ConstrainedNetwork {
 public:
  NoStridePreActResNet18(int64_t classes, int64_t in_channels, const NetworkConstraints& c, bool bn)
      : constraints_(c) {
    stem_ = register_module("conv1", ConstrainedConv2d(in_channels, 64, 7, 1, c.Layer(0)));
    convs_.push_back({"conv1", stem_});
    int64_t planes = 64;
    for (int stage = 1; stage <= 4; ++stage) {
      const int64_t out_planes = 64 << (stage - 1);
      for (int b = 1; b <= 2; ++b) {
        PreActBlock block;
        block.downsample = stage > 1 && b == 1;
        const std::string prefix = absl::StrCat("conv", stage, b);
        block.conv1 =
            register_module(prefix + "1", ConstrainedConv2d(planes, out_planes, 3, 1, c.Layer(1)));
        block.conv2 = register_module(prefix + "2",
                                      ConstrainedConv2d(out_planes, out_planes, 3, 1, c.Layer(1)));
        if (bn) {
          block.bn1 = register_module(prefix + "_bn1", torch::nn::BatchNorm2d(planes));
          block.bn2 = register_module(prefix + "_bn2", torch::nn::BatchNorm2d(out_planes));
        }
        convs_.push_back({prefix + "1", block.conv1});
        convs_.push_back({prefix + "2", block.conv2});
        blocks_.push_back(block);
        planes = out_planes;
      }
    }
    if (c.simplex()) {
      simplex_ = register_module("fc", SimplexClassifier(512, classes, c.lip[3]));
    } else {
      linears_.push_back(
          {"fc", register_module("fc", ConstrainedLinear(512, classes, c.Layer(3)))});
    }
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor h = MaxPool3x3s2(MaxPool3x3s2(torch::relu(stem_->forward(x))));
    for (PreActBlock& b : blocks_) h = b.Forward(h);
    h = h.mean({2, 3});  // AdaptiveAvgPool2d(1) + flatten; no final activation (same as reference)
    return simplex_ ? simplex_->forward(h) : linears_.front().second->forward(h);
  }

  void Init(int64_t channels, int64_t height, int64_t width) override {
    stem_->Init(height, width);
    height = static_cast<int64_t>(PoolOut(PoolOut(height)));
    width = static_cast<int64_t>(PoolOut(PoolOut(width)));
    for (PreActBlock& b : blocks_) {
      b.conv1->Init(height, width);
      if (b.downsample) {
        height = static_cast<int64_t>(PoolOut(height));
        width = static_cast<int64_t>(PoolOut(width));
      }
      b.conv2->Init(height, width);
    }
    if (!linears_.empty()) linears_.front().second->Init();
  }

  double Lip() override {
    return Combine([](auto& conv) { return conv->Lip(); }, Classifier());
  }

  double LipExact() override {
    const double fc =
        simplex_
            ? simplex_->Lip()
            : torch::linalg_svdvals(linears_.front().second->weight.detach()).max().item<double>();
    return Combine([](auto& conv) { return conv->LipExact(); }, fc);
  }

  double LipCond() const override {
    const double l0 = constraints_.lip[0], l1 = constraints_.lip[1];
    double p = l0;
    for (const PreActBlock& b : blocks_) p *= (b.downsample ? std::sqrt(2.0) : 1.0) + l1 * l1;
    return p * (simplex_ ? simplex_->Lip() : constraints_.lip[3]);
  }

 private:
  double Classifier() { return simplex_ ? simplex_->Lip() : linears_.front().second->Lip(); }

  // lip(conv1) * prod over blocks (s_shortcut + lip(conv1) lip(conv2)) * lip(fc).
  template <typename F>
  double Combine(F lip, double classifier) {
    double p = lip(stem_);
    for (PreActBlock& b : blocks_)
      p *= (b.downsample ? std::sqrt(2.0) : 1.0) + lip(b.conv1) * lip(b.conv2);
    return p * classifier;
  }

  NetworkConstraints constraints_;
  ConstrainedConv2d stem_{nullptr};
  std::vector<PreActBlock> blocks_;
};

}  // namespace

ConstraintOptions NetworkConstraints::Layer(int index) const {
  return ConstraintOptions().lip_cond(lip[index]).dist_cond(dist[index]).proj_mode(mode);
}

absl::StatusOr<NetworkConstraints> ParseConstraints(const std::vector<double>& lip,
                                                    const std::vector<double>& dist,
                                                    ProjMode mode) {
  if (lip.size() != 4 || dist.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("--lip and --dist take 4 values each (first conv, in-block convs, shortcut, "
                     "classifier), got ",
                     lip.size(), " and ", dist.size()));
  }
  NetworkConstraints c;
  c.mode = mode;
  for (int i = 0; i < 4; ++i) {
    c.lip[i] = lip[i] == -1 ? kNoConstraint : lip[i];
    c.dist[i] = dist[i] == -1 ? kNoConstraint : dist[i];
    if (!(c.lip[i] > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--lip values must be > 0 or -1, got ", lip[i]));
    }
    const bool simplex_selector = i == 3 && dist[i] == 0;
    if (!(c.dist[i] > 0) && !simplex_selector) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--dist values must be > 0 or -1 (0 only as the last value: simplex classifier), got ",
          dist[i]));
    }
  }
  return c;
}

std::map<std::string, double> ConstrainedNetwork::LayerLips() {
  std::map<std::string, double> out;
  for (auto& [name, conv] : convs_) out[name] = conv->Lip();
  for (auto& [name, linear] : linears_) out[name] = linear->Lip();
  return out;
}

std::map<std::string, double> ConstrainedNetwork::LayerExactLips() {
  std::map<std::string, double> out;
  for (auto& [name, conv] : convs_) out[name] = conv->LipExact();
  for (auto& [name, linear] : linears_) {
    out[name] = torch::linalg_svdvals(linear->weight.detach()).max().item<double>();
  }
  return out;
}

std::map<std::string, double> ConstrainedNetwork::LayerDists() {
  std::map<std::string, double> out;
  for (auto& [name, conv] : convs_) out[name] = conv->Dist();
  for (auto& [name, linear] : linears_) out[name] = linear->Dist();
  return out;
}

std::vector<std::string> ConstrainedNetwork::Violations(double slack) {
  std::vector<std::string> out;
  const auto lips = LayerExactLips(), dists = LayerDists();
  auto check = [&](const std::string& name, const ConstraintOptions& c) {
    if (lips.at(name) > c.lip_cond() * (1 + slack) ||
        dists.at(name) > c.dist_cond() * (1 + slack)) {
      out.push_back(name);
    }
  };
  for (auto& [name, conv] : convs_) check(name, conv->constraints);
  for (auto& [name, linear] : linears_) check(name, linear->constraints);
  return out;
}

void ConstrainedNetwork::Project(int n_iter, bool exact) {
  for (auto& [name, conv] : convs_) conv->Project(n_iter, exact);
  for (auto& [name, linear] : linears_) linear->Project(n_iter, exact);
}

void ConstrainedNetwork::ResetPowerState() {
  for (auto& [name, conv] : convs_) conv->ResetPowerState();
}

double ConstrainedNetwork::SpectralComplexity() {
  const auto lips = LayerLips(), dists = LayerDists();
  double sum = 0;
  for (const auto& [name, lip] : lips) sum += std::pow(dists.at(name) / lip, 2.0 / 3.0);
  return std::pow(sum, 1.5) * Lip();
}

std::vector<LayerCapacity> ConstrainedNetwork::Capacities() {
  std::vector<LayerCapacity> out;
  for (auto& [name, conv] : convs_) {
    out.push_back({name, conv->LipExact(), conv->Dist(), static_cast<double>(conv->weight.numel()),
                   static_cast<double>(conv->input_height),
                   static_cast<double>(conv->power_u.size(2)),
                   static_cast<double>(conv->kernel_size)});
  }
  for (auto& [name, linear] : linears_) {
    out.push_back({name, torch::linalg_svdvals(linear->weight.detach()).max().item<double>(),
                   linear->Dist(), static_cast<double>(linear->weight.numel()), 1, 1, 1});
  }
  if (simplex_) {
    out.push_back(
        {"simplex", simplex_->Lip(), 0, static_cast<double>(simplex_->weight.numel()), 1, 1, 1});
  }
  return out;
}

std::shared_ptr<ConstrainedNetwork> MakeSimpleConvnet(int block_depth, int64_t classes,
                                                      int64_t in_channels, int64_t n_channels,
                                                      const NetworkConstraints& constraints) {
  return std::make_shared<SimpleConvnet>(block_depth, classes, in_channels, n_channels,
                                         constraints);
}

std::shared_ptr<ConstrainedNetwork> MakeNoStridePreActResNet18(
    int64_t classes, int64_t in_channels, const NetworkConstraints& constraints, bool batch_norm) {
  return std::make_shared<NoStridePreActResNet18>(classes, in_channels, constraints, batch_norm);
}

}  // namespace excess_capacity
