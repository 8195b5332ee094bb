// ImplicitModel (El Ghaoui et al. 2021, Eq. 1.1): y = C x + D u with x = phi(A x + B u).
//
//   u [m, p] --(+1 row if bias)--> U [p', m] --B--> (+) --phi--> X [n, m] --C--> (+) --> y [m, q]
//                                        \          ^  |                        ^
//                                         \         +--A (fixed point)          |
//                                          +------------------D-----------------+
//
// Batch-first API as the reference: inputs [m, p], outputs [m, q]. Every matrix is initialised
// N(0, 1) / n (same as reference: divided by the hidden size, not the fan-in). State dict keys
// are A, B, C, D, the reference's names, so weights move to and from Python unchanged.
#ifndef IMPLICIT_DL_IMPLICIT_MODEL_H_
#define IMPLICIT_DL_IMPLICIT_MODEL_H_

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <ostream>

#include "absl/status/status.h"
#include "implicit_dl/activation.h"
#include "implicit_dl/implicit_function.h"
#include "implicit_dl/well_posedness.h"

namespace implicit_dl {

struct ImplicitModelOptions {
  ImplicitModelOptions(int64_t n, int64_t p, int64_t q) : n_(n), p_(p), q_(q) {}
  TORCH_ARG(int64_t, n);                                    // hidden state size
  TORCH_ARG(int64_t, p);                                    // input features (without the bias row)
  TORCH_ARG(int64_t, q);                                    // outputs
  TORCH_ARG(WellPosedness, variant) = WellPosedness::kInf;  // same as reference default
  TORCH_ARG(Activation, activation) = {};                   // ReLU
  TORCH_ARG(SolverOptions, solver) = {};
  // D is a zero buffer instead of a parameter (the reference's plain tensor would not move to
  // the GPU nor appear in the state dict; a buffer does both).
  TORCH_ARG(bool, no_D) = false;
  // Appends a constant-1 input row, so the last columns of B and D act as biases.
  TORCH_ARG(bool, bias) = false;
};

// n, p, q > 0 and solver settings positive; messages name the flag.
absl::Status Validate(const ImplicitModelOptions& options);

class ImplicitModelImpl : public torch::nn::Cloneable<ImplicitModelImpl> {
 public:
  explicit ImplicitModelImpl(const ImplicitModelOptions& options);

  void reset() override;
  void reset_parameters();

  // u [m, p] -> y [m, q]. x0 [m, n] is an optional warm start for the fixed point.
  torch::Tensor forward(const torch::Tensor& u, const torch::Tensor& x0 = {});

  // The hidden state of u: x [m, n] (with the same well-posedness step and solver).
  torch::Tensor HiddenState(const torch::Tensor& u, const torch::Tensor& x0 = {});

  // Iterations and convergence of the last forward (and, once it ran, its backward).
  SolveStats last_stats() const;

  // Percentage of exactly-zero entries of A (the reference's sparsity_A).
  double SparsityOfA() const;

  void pretty_print(std::ostream& stream) const override;

  ImplicitModelOptions options;
  torch::Tensor A;  // [n, n]
  torch::Tensor B;  // [n, p + bias]
  torch::Tensor C;  // [q, n]
  torch::Tensor D;  // [q, p + bias]; a zero buffer when no_D

 private:
  torch::Tensor InputColumns(const torch::Tensor& u) const;  // [p + bias, m]

  c10::intrusive_ptr<SolveContext> last_;
};
TORCH_MODULE(ImplicitModel);

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_IMPLICIT_MODEL_H_
