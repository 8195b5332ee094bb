#include "weightnorm_init/models.h"

#include "absl/strings/str_cat.h"
#include "weightnorm_init/wn_relu_stack.h"

namespace weightnorm_init {
namespace {

WnLayerOptions Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, bool weight_norm) {
  return WnLayerOptions(in, out, kernel)
      .stride(stride)
      .padding(kernel / 2)
      .weight_norm(weight_norm);
}

// Propagates the init batch, when there is one.
torch::Tensor Relu(const torch::Tensor& x) { return x.defined() ? torch::relu(x) : x; }

torch::Tensor GlobalAveragePool(const torch::Tensor& x) { return x.mean({2, 3}); }

class MlpNet : public NetImpl {
 public:
  explicit MlpNet(const ModelOptions& o) {
    int64_t in = o.channels() * o.side() * o.side();
    for (int64_t i = 0; i < o.num_layers(); ++i) {
      hidden_.push_back(register_module(
          absl::StrCat("layer", i),
          WnLayer(WnLayerOptions(in, o.hidden_size()).weight_norm(o.weight_norm()))));
      in = o.hidden_size();
    }
    classifier_ = register_module("classifier", torch::nn::Linear(in, o.classes()));
    weight_norm_ = o.weight_norm();
    for (WnLayer& layer : hidden_) {
      if (weight_norm_)
        stack_params_.insert(stack_params_.end(), {layer->weight_v, layer->weight_g, layer->bias});
    }
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    if (weight_norm_) return classifier_(WnReluStack(x.flatten(1), stack_params_));
    torch::Tensor h = x.flatten(1);
    for (WnLayer& layer : hidden_) h = torch::relu(layer(h));
    return classifier_(h);
  }
  void Initialize(const InitScheme& scheme, const torch::Tensor& batch) override {
    torch::Tensor h = batch.defined() ? batch.flatten(1) : batch;
    for (WnLayer& layer : hidden_) h = Relu(InitLayer(layer, scheme, /*gamma=*/2.0, h));
  }
  std::vector<torch::Tensor> Trace(const torch::Tensor& x) override {
    std::vector<torch::Tensor> out;
    torch::Tensor h = x.flatten(1);
    for (WnLayer& layer : hidden_) out.push_back(h = torch::relu(layer(h)));
    return out;
  }

 private:
  std::vector<WnLayer> hidden_;
  torch::nn::Linear classifier_{nullptr};
  bool weight_norm_ = false;
  std::vector<torch::Tensor> stack_params_;  // (v, g, b) per layer: the fused forward's inputs
};

class CnnNet : public NetImpl {
 public:
  explicit CnnNet(const ModelOptions& o) {
    int64_t in = o.channels();
    for (int64_t i = 0; i < o.num_layers(); ++i) {
      const int64_t stride = i < 2 ? 2 : 1;  // same as reference: "to reduce memory"
      convs_.push_back(register_module(
          absl::StrCat("conv", i), WnLayer(Conv(in, o.hidden_size(), 3, stride, o.weight_norm()))));
      in = o.hidden_size();
    }
    classifier_ = register_module("classifier", torch::nn::Linear(in, o.classes()));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor h = x;
    for (WnLayer& conv : convs_) h = torch::relu(conv(h));
    return classifier_(GlobalAveragePool(h));
  }
  void Initialize(const InitScheme& scheme, const torch::Tensor& batch) override {
    torch::Tensor h = batch;
    for (WnLayer& conv : convs_) h = Relu(InitLayer(conv, scheme, /*gamma=*/2.0, h));
  }
  std::vector<torch::Tensor> Trace(const torch::Tensor& x) override {
    std::vector<torch::Tensor> out;
    torch::Tensor h = x;
    for (WnLayer& conv : convs_) out.push_back(h = torch::relu(conv(h)));
    return out;
  }

 private:
  std::vector<WnLayer> convs_;
  torch::nn::Linear classifier_{nullptr};
};

// resnet and wrn: stem -> 3 stages -> GAP -> Linear.
class ResidualNet : public NetImpl {
 public:
  explicit ResidualNet(const ModelOptions& o) : wrn_(o.nn() == "wrn") {
    const int64_t base = wrn_ ? 16 : o.hidden_size();
    const int64_t stem_stride = wrn_ && o.wrn_reduced_memory() ? 2 : 1;
    stem_ =
        register_module("stem", WnLayer(Conv(o.channels(), base, 3, stem_stride, o.weight_norm())));
    if (o.batch_norm() && !wrn_)
      stem_bn_ = register_module("stem_bn", torch::nn::BatchNorm2d(base));
    blocks_per_stage_ = wrn_ ? o.wrn_n() : o.num_blocks();
    const int64_t width = wrn_ ? 16 * o.wrn_k() : base;
    int64_t in = base;
    for (int64_t s = 0; s < 3; ++s) {
      const int64_t out = width << s;
      for (int64_t b = 0; b < blocks_per_stage_; ++b) {
        const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
        blocks_.push_back(
            register_module(absl::StrCat("stage", s + 1, "_block", b + 1),
                            ResBlock(in, out, stride, o.weight_norm(), o.batch_norm())));
        in = out;
      }
    }
    if (o.batch_norm() && !wrn_)
      final_bn_ = register_module("final_bn", torch::nn::BatchNorm2d(in));
    classifier_ = register_module("classifier", torch::nn::Linear(in, o.classes()));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor h = Stem(x);
    for (ResBlock& block : blocks_) h = block(h);
    if (final_bn_) h = final_bn_(h);  // same as reference: no ReLU
    return classifier_(GlobalAveragePool(h));
  }
  void Initialize(const InitScheme& scheme, const torch::Tensor& batch) override {
    // Stem: gamma 2 in the reference's ResNet, 1 in its WRN (nothing rectifies the WRN stem).
    torch::Tensor h = InitLayer(stem_, scheme, wrn_ ? 1.0 : 2.0, batch);
    for (size_t i = 0; i < blocks_.size(); ++i) {
      const int64_t block = static_cast<int64_t>(i) % blocks_per_stage_ + 1;
      h = blocks_[i]->Initialize(scheme, ResidualGamma(blocks_per_stage_, block, scheme.hanin), h);
    }
  }
  std::vector<torch::Tensor> Trace(const torch::Tensor& x) override {
    std::vector<torch::Tensor> out = {Stem(x)};
    for (size_t i = 0; i < blocks_.size(); ++i) {
      torch::Tensor h = blocks_[i](out.back());
      if ((static_cast<int64_t>(i) + 1) % blocks_per_stage_ == 0) {
        out.push_back(h);
      } else {
        out.back() = h;  // reuse the slot until the stage ends
      }
    }
    return out;
  }

 private:
  torch::Tensor Stem(const torch::Tensor& x) {
    torch::Tensor h = stem_(x);
    return stem_bn_ ? stem_bn_(h) : h;  // same as reference: no ReLU after the stem
  }

  bool wrn_;
  int64_t blocks_per_stage_ = 1;
  WnLayer stem_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr}, final_bn_{nullptr};
  std::vector<ResBlock> blocks_;
  torch::nn::Linear classifier_{nullptr};
};

}  // namespace

ResBlockImpl::ResBlockImpl(int64_t in, int64_t out, int64_t stride, bool weight_norm,
                           bool batch_norm) {
  conv1 = register_module("conv1", WnLayer(Conv(in, out, 3, stride, weight_norm)));
  conv2 = register_module("conv2", WnLayer(Conv(out, out, 3, 1, weight_norm)));
  if (in != out || stride > 1) {
    shortcut = register_module("shortcut", WnLayer(Conv(in, out, 1, stride, weight_norm)));
  }
  if (batch_norm) {
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(in));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(out));
  }
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x) {
  if (!bn1) return conv2(torch::relu(conv1(x))) + (shortcut ? shortcut(x) : x);
  const torch::Tensor normed = bn1(x);  // once: the reference ran bn1 twice with a shortcut
  const torch::Tensor branch = conv2(torch::relu(bn2(conv1(torch::relu(normed)))));
  return branch + (shortcut ? shortcut(normed) : x);
}

torch::Tensor ResBlockImpl::Initialize(const InitScheme& scheme, double conv2_gamma,
                                       const torch::Tensor& x) {
  // With BN the branch starts with ReLU(bn1(x)); BN is skipped while propagating, the ReLU kept.
  const torch::Tensor in1 = bn1 ? Relu(x) : x;
  const torch::Tensor y =
      InitLayer(conv2, scheme, conv2_gamma, Relu(InitLayer(conv1, scheme, /*gamma=*/2.0, in1)));
  const torch::Tensor skip = shortcut ? InitLayer(shortcut, scheme, /*gamma=*/1.0, x) : x;
  return y.defined() ? y + skip : y;
}

absl::Status Validate(const ModelOptions& o) {
  auto positive = [](const char* flag, int64_t v) -> absl::Status {
    if (v > 0) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be > 0, got ", v));
  };
  if (o.nn() != "mlp" && o.nn() != "cnn" && o.nn() != "resnet" && o.nn() != "wrn") {
    return absl::InvalidArgumentError(
        absl::StrCat("--nn must be mlp, cnn, resnet or wrn, got '", o.nn(), "'"));
  }
  for (auto [flag, v] : {std::pair<const char*, int64_t>{"hidden_size", o.hidden_size()},
                         {"num_layers", o.num_layers()},
                         {"num_blocks", o.num_blocks()},
                         {"wrn_n", o.wrn_n()},
                         {"wrn_k", o.wrn_k()}}) {
    if (auto s = positive(flag, v); !s.ok()) return s;
  }
  if (o.batch_norm() && (o.nn() == "mlp" || o.nn() == "cnn")) {
    return absl::InvalidArgumentError("--batch_norm applies to --nn=resnet and --nn=wrn only");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<NetImpl>> BuildModel(const ModelOptions& options,
                                                    const InitScheme& scheme,
                                                    const torch::Tensor& batch) {
  if (auto s = Validate(options); !s.ok()) return s;
  if (scheme.gain != Gain::kDefault && !options.weight_norm()) {
    return absl::InvalidArgumentError(absl::StrCat("--init=", scheme.name, " needs --weight_norm"));
  }
  if (scheme.gain == Gain::kDataDependent && !batch.defined()) {
    return absl::InvalidArgumentError(absl::StrCat("--init=", scheme.name, " needs an init batch"));
  }
  std::shared_ptr<NetImpl> net;
  if (options.nn() == "mlp") {
    net = std::make_shared<MlpNet>(options);
  } else if (options.nn() == "cnn") {
    net = std::make_shared<CnnNet>(options);
  } else {
    net = std::make_shared<ResidualNet>(options);
  }
  net->Initialize(scheme, scheme.gain == Gain::kDataDependent ? batch : torch::Tensor());
  return net;
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const torch::Tensor& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace weightnorm_init
