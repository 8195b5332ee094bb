// Checks every module and custom autograd function in this repository should pass:
// finite-difference gradients, state-dict round trips and float64 conversion.
//
// Example:
//   GradientCheck g = CheckGradients([&](const TensorList& in) { return f(in[0], in[1]); },
//                                    {x, w});
//   EXPECT_LT(g.max_abs_error, 1e-7);
#ifndef COMMON_TESTING_CONFORMANCE_H_
#define COMMON_TESTING_CONFORMANCE_H_

#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

namespace common::testing {

using TensorList = std::vector<torch::Tensor>;

struct GradientCheck {
  double max_abs_error = 0;  // max over all input entries of |autograd - central difference|
  double max_abs_grad = 0;   // max |central difference|, to put the error in scale
};

// Compares autograd's gradient of L = sum(f(inputs) * R) (R a fixed random tensor) with central
// differences of step `eps`, for every entry of every input that requires grad. Inputs are
// converted to float64 first; `f` must be deterministic. Cost: 2 * numel forward passes.
GradientCheck CheckGradients(const std::function<torch::Tensor(const TensorList&)>& f,
                             const TensorList& inputs, double eps = 1e-6, uint64_t seed = 0);

// Copies `source`'s state dict through a file into `target` (same architecture, different
// values) and returns "" if every tensor is then equal, else a description of the first
// difference.
std::string StateDictRoundTrip(const torch::nn::Module& source, torch::nn::Module& target,
                               const std::string& dir);

// True when every parameter and buffer of `module` has dtype `dtype`.
bool AllTensorsHaveDtype(const torch::nn::Module& module, torch::ScalarType dtype);

}  // namespace common::testing

#endif  // COMMON_TESTING_CONFORMANCE_H_
