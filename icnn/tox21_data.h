// Tox21 for the ICNN experiments (Hoedt & Klambauer 2023, Table 1): 12 toxicity assays with
// missing labels. Reads the public MoleculeNet file tox21.csv(.gz) (12 assay columns, mol_id,
// smiles) and turns each SMILES into an ECFP (Morgan, radius 2) bit vector with RDKit; invalid
// SMILES are skipped and counted. Missing labels are NaN and are masked out of the loss.
#ifndef ICNN_TOX21_DATA_H_
#define ICNN_TOX21_DATA_H_

#include <torch/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace icnn {

// Largest accepted --bits (ECFP fingerprint length); the paper uses 2048.
inline constexpr int kMaxEcfpBits = 1 << 20;

inline constexpr int64_t kTox21Tasks = 12;

struct Tox21Data {
  torch::Tensor features;  // [N, bits] float32, 0/1
  torch::Tensor labels;    // [N, 12] float32: 0, 1 or NaN (missing)
  int64_t invalid_smiles = 0;
};

// ECFP bit vector of a SMILES ([bits] float32), or NotFound-free InvalidArgument for bad SMILES.
absl::StatusOr<torch::Tensor> EcfpBits(const std::string& smiles, int radius = 2, int bits = 2048);

// Parses the MoleculeNet CSV text; `name` appears in errors (missing columns, bad label values).
absl::StatusOr<Tox21Data> ParseTox21Csv(const std::string& text, const std::string& name,
                                        int bits = 2048);
absl::StatusOr<Tox21Data> ReadTox21Csv(const std::string& path, int bits = 2048);

// The reference's own layout (Tox21Original): dir/tox21_original/{train,valid,test}_data.npz with
// `labels` [N, 12] (values other than 0 and 1 are missing -> NaN) and `compound_idx` [N] into a
// feature matrix `compound_features_cddd.npy` [M, 512] (CDDD descriptors; looked for in dir and in
// dir/tox21_original unless `features_path` is given). The DeepTox challenge splits.
struct Tox21Splits {
  Tox21Data train, valid, test;
};
absl::StatusOr<Tox21Splits> ReadTox21Original(const std::string& dir,
                                              const std::string& features_path = "");

// Either layout in `dir`: tox21_original/ (the three DeepTox splits) if present, else
// tox21.csv(.gz), returned as `train` with empty valid and test (it has no official split).
absl::StatusOr<Tox21Splits> LoadTox21Dir(const std::string& dir,
                                         const std::string& features_path = "", int bits = 2048);

// Binary cross-entropy with logits over the entries whose label is not NaN (0 if none): the mean,
// or with `sum` the sum (the reference's MaskedBCEWithLogitsLoss(reduction="sum")).
torch::Tensor MaskedBceWithLogits(const torch::Tensor& logits, const torch::Tensor& labels,
                                  bool sum = false);

}  // namespace icnn

#endif  // ICNN_TOX21_DATA_H_
