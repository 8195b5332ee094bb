// The reference README's picture of a trained model: the sparsity pattern of the block matrix
// [[C, D], [A, B]] (plt.spy in the original), written as SVG or PNG without Python.
#ifndef IMPLICIT_DL_SPARSITY_FIGURE_H_
#define IMPLICIT_DL_SPARSITY_FIGURE_H_

#include <torch/types.h>

#include <string>

#include "absl/status/status.h"
#include "implicit_dl/implicit_model.h"

namespace implicit_dl {

// [[C, D], [A, B]]: [(q + n), (n + p')] in float64.
torch::Tensor BlockMatrix(const ImplicitModelImpl& model);

// Writes the pattern of |entries| > threshold to `path` (.svg or .png).
absl::Status WriteSparsityFigure(const ImplicitModelImpl& model, const std::string& path,
                                 double threshold = 0);

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_SPARSITY_FIGURE_H_
