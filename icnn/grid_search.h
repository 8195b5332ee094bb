// The generalisation experiment of Hoedt & Klambauer (2023, Fig. 3 and 11; mlp_search/): a grid of
// pre-processing x learning rate x weight decay x hidden sizes per model, each configuration
// trained on a 90/10 split of the training set with the best validation accuracy kept, then the
// best configuration of each model retrained over several seeds on the whole training set with the
// test set evaluated every epoch.
//
// Models (the reference's names): nn (non-convex, He), icnn (lazy clipping, He), skip (icnn with
// input skips), ours (lazy clipping, the principled init), exp1 (exp positivity, He on the raw
// weights), exp2 (exp positivity, the principled init written through the positivity's inverse).
// Every network is D -> D (LeCun, any sign) -> hidden... -> classes, as the reference.
//
// The pre-processing arm really applies the whitening (the reference's grid key missed its target,
// so its pca and zca runs were copies of the normal ones).
#ifndef ICNN_GRID_SEARCH_H_
#define ICNN_GRID_SEARCH_H_

#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "icnn/convex_modules.h"

namespace icnn {

// x -> (x - mean) transform, fitted on training rows [N, D].
struct Whitening {
  torch::Tensor mean;       // [D]
  torch::Tensor transform;  // [D, D]
};

// "normal": standardise with the global mean and standard deviation; "pca": project onto the
// covariance eigenvectors scaled by 1/sqrt(lambda + eps); "zca": the PCA whitening rotated back.
absl::StatusOr<Whitening> FitWhitening(const torch::Tensor& x, const std::string& kind,
                                       double eps = 1e-2);
torch::Tensor ApplyWhitening(const Whitening& w, const torch::Tensor& x);

struct SearchConfig {
  int id = 0;  // the reference's numbering: from 18, hidden fastest, then wd, lr, pre_process
  std::string pre_process;
  double lr = 0, weight_decay = 0;
  std::vector<int64_t> hidden;
  nlohmann::json ToJson() const;
};

// "full": the reference's 180 configurations; "small": normal/zca x lr 1e-3, 1e-4 x wd 0 x hidden
// (256), (256, 256) — CPU-sized.
absl::StatusOr<std::vector<SearchConfig>> SearchGrid(const std::string& grid);

absl::StatusOr<IcnnOptions> SearchModel(const std::string& model, int64_t input, int64_t classes,
                                        const std::vector<int64_t>& hidden);

struct SearchData {
  torch::Tensor train_x, train_y, test_x, test_y;  // [N, D] in [0, 1], [N]
  int64_t classes = 0;
};

struct Curve {
  std::vector<double> accuracy, loss;  // per epoch (loss: mean cross-entropy)
  double best_accuracy = 0;
  int64_t best_epoch = 0;  // 1-based
};

struct SearchRunOptions {
  int64_t epochs = 25;   // same as reference
  int64_t bs = 128;      // same as reference
  uint64_t seed = 2023;  // same as reference
};

// One configuration on the 90/10 split (pre-processing fitted on the 90%), Adam(lr, weight decay),
// summed cross-entropy; the validation curve.
absl::StatusOr<Curve> SearchRun(const std::string& model, const SearchConfig& config,
                                const SearchData& data, const SearchRunOptions& options);

// The configuration retrained on the whole training set: the test curve (every epoch).
absl::StatusOr<Curve> RetrainRun(const std::string& model, const SearchConfig& config,
                                 const SearchData& data, const SearchRunOptions& options);

}  // namespace icnn

#endif  // ICNN_GRID_SEARCH_H_
