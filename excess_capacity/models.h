// The networks of Graf et al. (NeurIPS 2022) built from constrained layers, with the 4-entry
// constraint vectors of the reference's --lip / --dist: [0] first conv, [1] every other conv,
// [2] shortcut (ignored, as in the reference: the pooling shortcut is fixed at sqrt(2)),
// [3] classifier (dist[3] == 0 selects the fixed simplex classifier).
//
//   simple_convnet6/11: 5 blocks of [conv3x3 stride 2 -> ReLU (-> conv3x3 -> ReLU)], 32 -> 1,
//                       then a 1x1 conv classifier (or flatten -> simplex).
//   no_stride_preactresnet18: conv7x7 -> ReLU -> maxpool(3,2) x2 -> 4 stages x 2 pre-activation
//                       blocks (all convs stride 1; downsampling by max-pool, pooling shortcuts)
//                       -> global average pool -> linear / simplex classifier.
#ifndef EXCESS_CAPACITY_MODELS_H_
#define EXCESS_CAPACITY_MODELS_H_

#include <torch/nn/module.h>
#include <torch/types.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "excess_capacity/bounds.h"
#include "excess_capacity/constrained_layers.h"

namespace excess_capacity {

struct NetworkConstraints {
  std::array<double, 4> lip = {kNoConstraint, kNoConstraint, kNoConstraint, kNoConstraint};
  std::array<double, 4> dist = {kNoConstraint, kNoConstraint, kNoConstraint, kNoConstraint};
  ProjMode mode = ProjMode::kOrthogonal;

  bool simplex() const { return dist[3] == 0; }
  ConstraintOptions Layer(int index) const;
};

// From the flag values: exactly 4 each, -1 means none, otherwise > 0 (dist[3] may be 0).
absl::StatusOr<NetworkConstraints> ParseConstraints(const std::vector<double>& lip,
                                                    const std::vector<double>& dist, ProjMode mode);

// What the training loop needs from a constrained network.
class ConstrainedNetwork : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // Kernel rewrites, rescaling and anchors for inputs [*, channels, height, width].
  virtual void Init(int64_t channels, int64_t height, int64_t width) = 0;
  // Network Lipschitz bound from per-layer values (measured: Lip(); constraint values: LipCond()).
  virtual double Lip() = 0;
  virtual double LipCond() const = 0;
  // The same combination of the exact per-layer norms (FFT / SVD).
  virtual double LipExact() = 0;
  // Per layer, in network order: name -> lip() (power iteration) / dist() / exact lip.
  std::map<std::string, double> LayerLips();
  std::map<std::string, double> LayerExactLips();
  std::map<std::string, double> LayerDists();
  // Names of layers violating their constraints by more than a relative `slack`.
  std::vector<std::string> Violations(double slack);
  // Dykstra projection of every constrained layer (exact: see ConstrainedConv2d::Project).
  void Project(int n_iter, bool exact = false);
  void ResetPowerState();
  // (sum over constrained layers of (dist / lip)^(2/3))^(3/2) * Lip().
  double SpectralComplexity();
  // Exact Lipschitz constant, distance, parameter count and geometry of every layer, in order
  // (the simplex classifier included), for bounds.h.
  std::vector<LayerCapacity> Capacities();

 protected:
  // Registered in network order by the subclasses.
  std::vector<std::pair<std::string, ConstrainedConv2d>> convs_;
  std::vector<std::pair<std::string, ConstrainedLinear>> linears_;
  SimplexClassifier simplex_{nullptr};
};

std::shared_ptr<ConstrainedNetwork> MakeSimpleConvnet(int block_depth, int64_t classes,
                                                      int64_t in_channels, int64_t n_channels,
                                                      const NetworkConstraints& constraints);

std::shared_ptr<ConstrainedNetwork> MakeNoStridePreActResNet18(
    int64_t classes, int64_t in_channels, const NetworkConstraints& constraints, bool batch_norm);

}  // namespace excess_capacity

#endif  // EXCESS_CAPACITY_MODELS_H_
