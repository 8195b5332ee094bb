#include "implicit_dl/extrapolation_experiment.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/dataset.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/util/status_macros.h"
#include "glog/logging.h"
#include "implicit_dl/implicit_model.h"
#include "implicit_dl/implicit_rnn.h"

namespace implicit_dl {
namespace {

using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

// A model under test: its parameters and its forward function.
struct Candidate {
  std::string name;
  std::shared_ptr<torch::nn::Module> module;
  Forward forward;
};

std::vector<double> Factors(const ExtrapolationConfig& c) {
  std::vector<double> f;
  for (int64_t i = 0; i < c.factors; ++i) {
    const double t = c.factors == 1 ? 0.0 : static_cast<double>(i) / (c.factors - 1);
    f.push_back(std::pow(10.0, c.log_min + t * (c.log_max - c.log_min)));
  }
  return f;
}

ImplicitModelOptions ImplicitOptions(const ExtrapolationConfig& c, int64_t p, int64_t q,
                                     ActivationKind kind) {
  ImplicitModelOptions o(c.n, p, q);
  o.activation().kind = kind;
  o.solver().mitr = o.solver().grad_mitr = c.mitr;
  o.solver().tol = o.solver().grad_tol = c.tol;
  return o;
}

// Full-batch Adam with ExponentialLR (one decay per epoch); returns the final training loss.
double Fit(const Candidate& m, const torch::Tensor& x, const torch::Tensor& y, bool classify,
           const ExtrapolationConfig& c) {
  torch::optim::Adam opt(m.module->parameters(), c.lr);
  double lr = c.lr, loss_value = 0;
  for (int64_t e = 0; e < c.epochs; ++e) {
    const torch::Tensor out = m.forward(x);
    const torch::Tensor loss = classify ? torch::nn::functional::cross_entropy(out, y)
                                        : torch::nn::functional::mse_loss(out, y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    loss_value = loss.item<double>();
    lr *= c.gamma;
    for (auto& g : opt.param_groups()) g.options().set_lr(lr);
  }
  return loss_value;
}

double TestMetric(const Candidate& m, const torch::Tensor& x, const torch::Tensor& y,
                  bool classify) {
  torch::NoGradGuard no_grad;
  const torch::Tensor out = m.forward(x);
  if (classify) return (out.argmax(1) == y).to(torch::kFloat64).mean().item<double>();
  return torch::nn::functional::mse_loss(out, y).item<double>();
}

torch::Tensor Uniform(std::vector<int64_t> shape, double half_width, torch::Generator& gen) {
  return (torch::rand(shape, gen) * 2 - 1) * half_width;
}

absl::Status WriteCurves(const std::string& dir, const std::string& task,
                         const ExtrapolationCurves& curves, bool classify) {
  std::vector<std::string> names;
  for (const auto& [name, values] : curves.metric) names.push_back(name);
  std::string csv = absl::StrCat("factor,", absl::StrJoin(names, ","), "\n");
  std::vector<common::plot::Series> series;
  for (size_t i = 0; i < curves.factors.size(); ++i) {
    csv += absl::StrCat(curves.factors[i]);
    for (const auto& name : names) absl::StrAppend(&csv, ",", curves.metric.at(name)[i]);
    csv += "\n";
  }
  for (const auto& name : names) {
    series.push_back({name, curves.factors, curves.metric.at(name), {}, {}});
  }
  RETURN_IF_ERROR(common::data::WriteFileAtomically(absl::StrCat(dir, "/", task, ".csv"), csv));
  const common::plot::Axes axes{task + ": test on U(-f/2, f/2)", "scale factor f",
                                classify ? "accuracy" : "MSE", true, !classify};
  return common::plot::LinePlot(absl::StrCat(dir, "/", task, ".svg"), axes, series);
}

absl::StatusOr<torch::Tensor> Target(const std::string& fn, const torch::Tensor& x, int64_t a,
                                     int64_t b, int64_t len) {
  const torch::Tensor s1 = x.narrow(1, a, len).sum(1, true), s2 = x.narrow(1, b, len).sum(1, true);
  if (fn == "add") return s1 + s2;
  if (fn == "sub") return s1 - s2;
  if (fn == "mul") return s1 * s2;
  if (fn == "div") return s1 / s2;
  return absl::InvalidArgumentError(
      absl::StrCat("--functions: unknown function '", fn, "' (add, sub, mul, div)"));
}

std::vector<Candidate> ArithmeticModels(const ExtrapolationConfig& c) {
  std::vector<Candidate> out;
  for (auto [name, kind] : {std::pair{"implicit_relu", ActivationKind::kReLU},
                            std::pair{"implicit_silu", ActivationKind::kSiLU}}) {
    ImplicitModel m(ImplicitOptions(c, c.dim, 1, kind));
    out.push_back({name, m.ptr(), [m](const torch::Tensor& x) mutable { return m->forward(x); }});
  }
  for (auto [name, silu] : {std::pair{"mlp_relu", false}, std::pair{"mlp_silu", true}}) {
    torch::nn::Sequential mlp;
    const auto linear = [](int64_t i, int64_t o) {
      return torch::nn::Linear(torch::nn::LinearOptions(i, o).bias(false));
    };
    for (int64_t in : {c.dim, c.n, c.n}) {
      mlp->push_back(linear(in, c.n));
      if (silu)
        mlp->push_back(torch::nn::SiLU());
      else
        mlp->push_back(torch::nn::ReLU());
    }
    mlp->push_back(linear(c.n, 1));
    out.push_back(
        {name, mlp.ptr(), [mlp](const torch::Tensor& x) mutable { return mlp->forward(x); }});
  }
  return out;
}

absl::StatusOr<ExtrapolationCurves> Arithmetic(const ExtrapolationConfig& c,
                                               const std::string& fn) {
  torch::Generator gen = common::data::SeededGenerator(c.seed, std::hash<std::string>()(fn));
  const int64_t a = torch::randint(c.dim - c.slice + 1, {1}, gen).item<int64_t>();
  const int64_t b = torch::randint(c.dim - c.slice + 1, {1}, gen).item<int64_t>();
  const torch::Tensor x = Uniform({c.samples, c.dim}, 1.0, gen);
  ASSIGN_OR_RETURN(torch::Tensor y, Target(fn, x, a, b, c.slice));
  ExtrapolationCurves curves{Factors(c), {}, {}};
  for (const Candidate& m : ArithmeticModels(c)) {
    curves.train_metric[m.name] = Fit(m, x, y, /*classify=*/false, c);
    for (double f : curves.factors) {
      const torch::Tensor xt = Uniform({c.test_samples, c.dim}, f / 2, gen);
      ASSIGN_OR_RETURN(torch::Tensor yt, Target(fn, xt, a, b, c.slice));
      curves.metric[m.name].push_back(TestMetric(m, xt, yt, false));
    }
    LOG(INFO) << fn << " " << m.name << ": train MSE " << curves.train_metric[m.name]
              << ", test MSE at f=" << curves.factors.front() << ": "
              << curves.metric[m.name].front();
  }
  return curves;
}

std::vector<Candidate> ArgmaxModels(const ExtrapolationConfig& c) {
  ImplicitRNN rnn(1, c.n, c.seq_len, ImplicitOptions(c, 1, 1, ActivationKind::kReLU));
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(1, c.n).batch_first(true));
  torch::nn::Linear head(c.n, c.seq_len);
  auto holder = std::make_shared<torch::nn::Module>();
  holder->register_module("lstm", lstm);
  holder->register_module("head", head);
  return {{"implicit_rnn", rnn.ptr(),
           [rnn](const torch::Tensor& x) mutable { return rnn->forward(x); }},
          {"lstm", holder, [lstm, head](const torch::Tensor& x) mutable {
             return head->forward(std::get<0>(lstm->forward(x)).select(1, -1));
           }}};
}

ExtrapolationCurves Argmax(const ExtrapolationConfig& c) {
  torch::Generator gen = common::data::SeededGenerator(c.seed, 1234);
  const torch::Tensor x = Uniform({c.samples, c.seq_len, 1}, 1.0, gen);
  const torch::Tensor y = x.squeeze(2).argmax(1);
  ExtrapolationCurves curves{Factors(c), {}, {}};
  for (const Candidate& m : ArgmaxModels(c)) {
    Fit(m, x, y, /*classify=*/true, c);
    curves.train_metric[m.name] = TestMetric(m, x, y, true);
    for (double f : curves.factors) {
      const torch::Tensor xt = Uniform({c.test_samples, c.seq_len, 1}, f / 2, gen);
      curves.metric[m.name].push_back(TestMetric(m, xt, xt.squeeze(2).argmax(1), true));
    }
    LOG(INFO) << "argmax " << m.name << ": train accuracy " << curves.train_metric[m.name];
  }
  return curves;
}

}  // namespace

absl::Status Validate(const ExtrapolationConfig& c) {
  const std::pair<const char*, int64_t> positive[] = {{"--dim", c.dim},
                                                      {"--samples", c.samples},
                                                      {"--test_samples", c.test_samples},
                                                      {"--epochs", c.epochs},
                                                      {"--n", c.n},
                                                      {"--factors", c.factors},
                                                      {"--seq_len", c.seq_len},
                                                      {"--slice", c.slice}};
  for (const auto& [name, v] : positive) {
    if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(name, " must be > 0, got ", v));
  }
  if (c.slice > c.dim) {
    return absl::InvalidArgumentError(
        absl::StrCat("--slice (", c.slice, ") exceeds --dim (", c.dim, ")"));
  }
  if (!(c.lr > 0)) return absl::InvalidArgumentError(absl::StrCat("--lr must be > 0, got ", c.lr));
  if (!(c.log_min < c.log_max) || !std::isfinite(c.log_min) || !std::isfinite(c.log_max)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--log_min must be below --log_max (both finite), got ", c.log_min, " and ", c.log_max));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, ExtrapolationCurves>> RunExtrapolation(
    const ExtrapolationConfig& c) {
  RETURN_IF_ERROR(Validate(c));
  // The models' initial weights come from LibTorch's global generator, which starts from a
  // random seed in every process: seed it, so that a config gives one result.
  torch::manual_seed(c.seed);
  std::map<std::string, ExtrapolationCurves> out;
  if (c.arithmetic) {
    for (const std::string& fn : c.functions) {
      ASSIGN_OR_RETURN(out["arithmetic_" + fn], Arithmetic(c, fn));
    }
  }
  if (c.argmax) out["argmax"] = Argmax(c);
  if (!c.out_dir.empty()) {
    RETURN_IF_ERROR(common::data::MakeDirs(c.out_dir));
    for (const auto& [task, curves] : out) {
      RETURN_IF_ERROR(WriteCurves(c.out_dir, task, curves, task == "argmax"));
    }
  }
  return out;
}

}  // namespace implicit_dl
