// Weights to and from Python, checked with Python: for a model of each package, C++ saves its
// state dict, Python's torch.load reads it and python_interop.py's own re-implementation of the
// architecture computes the same outputs on a fixed input; then Python changes the weights,
// torch.save(module.state_dict()) writes the usual OrderedDict, and the C++ model loads it and
// computes Python's outputs. Runs Debian's /usr/bin/python3 (or $PYTHON) with torch; skips with
// the reason printed when that is not installed.
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/testing/runfiles.h"
#include "common/train/checkpoint.h"
#include "deep_weight_prior/nets.h"
#include "excess_capacity/models.h"
#include "gtest/gtest.h"
#include "icnn/convex_modules.h"
#include "implicit_dl/implicit_model.h"
#include "weightnorm_init/models.h"

namespace {

struct Model {
  std::string name;
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  torch::Tensor input;
};

// A model of each package with the names python_interop.py expects; `seed` draws its weights.
std::vector<Model> Models(uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<Model> out;
  {
    icnn::IcnnMlp net(icnn::IcnnOptions(4, 3).num_hidden(2));
    out.push_back(
        {"icnn_mlp", net.ptr(), [net](const torch::Tensor& x) mutable { return net->forward(x); }});
  }
  {
    weightnorm_init::ModelOptions o("mlp", 1, 3, 4);
    o.hidden_size(5).num_layers(2).weight_norm(true);
    auto net = weightnorm_init::BuildModel(
                   o, weightnorm_init::ParseInitScheme("he_proposed", true).value(), {})
                   .value();
    out.push_back(
        {"weightnorm_mlp", net, [net](const torch::Tensor& x) { return net->forward(x); }});
  }
  {
    auto net = excess_capacity::MakeSimpleConvnet(1, 10, 3, 8, {});
    net->Init(3, 32, 32);  // crops the kernels of the 2x2 and 1x1 maps, as training does
    out.push_back({"excess_capacity_simple_convnet", net,
                   [net](const torch::Tensor& x) { return net->forward(x); }});
  }
  {
    implicit_dl::ImplicitModel net(implicit_dl::ImplicitModelOptions(6, 4, 3));
    torch::NoGradGuard no_grad;
    net->A.mul_(0.5 / net->A.abs().sum(1).max());  // well inside the ball: no projection
    out.push_back({"implicit_model", net.ptr(),
                   [net](const torch::Tensor& x) mutable { return net->forward(x); }});
  }
  {
    deep_weight_prior::NetOptions o;
    o.c1 = 4, o.c2 = 6, o.net_cfg = "vanilla", o.classes = 5;
    deep_weight_prior::DwpNet net(o);
    out.push_back({"dwp_fconv", net.ptr(),
                   [net](const torch::Tensor& x) mutable { return net->forward(x); }});
  }
  torch::manual_seed(1234);  // fixed inputs, whatever the weights
  out[0].input = torch::randn({5, 4});
  out[1].input = torch::randn({5, 1, 3, 3});
  out[2].input = 50 * torch::randn({2, 3, 32, 32});  // outputs of order 0.1, not 1e-3
  out[3].input = torch::randn({5, 4});
  out[4].input = torch::randn({2, 1, 28, 28});
  for (Model& m : out) m.module->eval();
  return out;
}

TEST(PythonInterop, StateDictsBothWays) {
  if (const std::string why = common::testing::PythonModuleMissing("torch", "python3-torch");
      !why.empty()) {
    GTEST_SKIP() << why;
  }
  const std::string dir = ::testing::TempDir() + "/python_interop";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  torch::NoGradGuard no_grad;
  const std::vector<Model> ours = Models(0);
  for (const Model& m : ours) {
    ASSERT_TRUE(common::train::SaveStateDict(dir + "/" + m.name + ".pt", *m.module).ok());
    ASSERT_TRUE(common::train::SaveTensorMap(dir + "/" + m.name + "_io.pt",
                                             {{"input", m.input}, {"output", m.forward(m.input)}})
                    .ok());
  }
  const std::string script = common::testing::RunfilesPath("python_interop.py");
  ASSERT_EQ(std::system(absl::StrCat(common::testing::Python(), " ", script, " ", dir).c_str()), 0)
      << "python_interop.py failed (its lines above)";

  // Python -> C++: fresh models with other weights load Python's OrderedDicts.
  const std::vector<Model> theirs = Models(99);
  for (size_t i = 0; i < theirs.size(); ++i) {
    const Model& m = theirs[i];
    SCOPED_TRACE(m.name);
    const absl::Status loaded =
        common::train::LoadStateDict(dir + "/" + m.name + "_py.pt", *m.module);
    ASSERT_TRUE(loaded.ok()) << loaded;
    const torch::Tensor expected =
        common::train::LoadTensorMap(dir + "/" + m.name + "_py_io.pt").value().at("output");
    const torch::Tensor y = m.forward(m.input);
    EXPECT_TRUE(torch::allclose(y, expected, 1e-4, 1e-5))
        << "max |diff| " << (y - expected).abs().max().item<double>();
    // Python's weights are 0.75 w + 0.002 of ours: the load really replaced seed 99's.
    const torch::Tensor w0 = ours[i].module->parameters()[0];
    EXPECT_TRUE(torch::allclose(m.module->parameters()[0], w0 * 0.75 + 0.002, 1e-6, 1e-7));
    EXPECT_FALSE(torch::allclose(y, ours[i].forward(m.input)));
  }
}

}  // namespace
