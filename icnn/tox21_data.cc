#include "icnn/tox21_data.h"

#include <DataStructs/ExplicitBitVect.h>
#include <GraphMol/Fingerprints/MorganFingerprints.h>  // RDKit::MorganFingerprints
#include <GraphMol/SmilesParse/SmilesParse.h>          // RDKit::SmilesToMol
#include <RDGeneral/RDLog.h>                           // RDLog: silence parse errors
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/data/file_bytes.h"
#include "common/data/npy.h"
#include "common/util/memory.h"
#include "common/util/status_macros.h"

namespace icnn {
namespace {

constexpr const char* kTaskNames[kTox21Tasks] = {
    "NR-AR",         "NR-AR-LBD", "NR-AhR",   "NR-Aromatase", "NR-ER",  "NR-ER-LBD",
    "NR-PPAR-gamma", "SR-ARE",    "SR-ATAD5", "SR-HSE",       "SR-MMP", "SR-p53"};

std::unique_ptr<RDKit::ROMol> ParseSmiles(const std::string& smiles) {
  try {
    return std::unique_ptr<RDKit::ROMol>(RDKit::SmilesToMol(smiles));
  } catch (const std::exception&) {  // RDKit throws for some malformed inputs
    return nullptr;
  }
}

}  // namespace

absl::StatusOr<torch::Tensor> EcfpBits(const std::string& smiles, int radius, int bits) {
  static const bool silenced = [] {
    boost::logging::disable_logs("rdApp.error");
    return true;
  }();
  (void)silenced;
  std::unique_ptr<RDKit::ROMol> mol = ParseSmiles(smiles);
  if (mol == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("invalid SMILES '", smiles, "'"));
  std::unique_ptr<ExplicitBitVect> fp(
      RDKit::MorganFingerprints::getFingerprintAsBitVect(*mol, radius, bits));
  torch::Tensor out = torch::zeros({bits});
  auto acc = out.accessor<float, 1>();
  for (int i = 0; i < bits; ++i) acc[i] = fp->getBit(i) ? 1.0f : 0.0f;
  return out;
}

absl::StatusOr<Tox21Data> ParseTox21Csv(const std::string& text, const std::string& name,
                                        int bits) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipWhitespace());
  if (lines.empty()) return absl::DataLossError(absl::StrCat(name, ": empty file"));
  const std::vector<std::string> header = absl::StrSplit(absl::StripAsciiWhitespace(lines[0]), ',');
  auto column = [&](const std::string& c) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == c) return static_cast<int>(i);
    }
    return -1;
  };
  const int smiles_col = column("smiles");
  std::vector<int> task_cols;
  for (const char* t : kTaskNames) task_cols.push_back(column(t));
  for (size_t t = 0; t < task_cols.size(); ++t) {
    if (task_cols[t] < 0)
      return absl::DataLossError(absl::StrCat(name, ": no column '", kTaskNames[t], "'"));
  }
  if (smiles_col < 0) return absl::DataLossError(absl::StrCat(name, ": no column 'smiles'"));
  if (bits < 1 || bits > kMaxEcfpBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bits must be in [1, ", kMaxEcfpBits, "], got ", bits));
  }
  // The fingerprints as float rows, twice (the per-molecule rows and their stack).
  RETURN_IF_ERROR(common::util::CheckFitsInMemory(
      2.0 * 4.0 * static_cast<double>(bits) * static_cast<double>(lines.size() - 1),
      absl::StrCat("--bits=", bits, " (ECFP features of ", lines.size() - 1, " molecules)")));
  Tox21Data data;
  std::vector<torch::Tensor> features;
  std::vector<float> labels;
  for (size_t r = 1; r < lines.size(); ++r) {
    const std::vector<std::string> cells =
        absl::StrSplit(absl::StripAsciiWhitespace(lines[r]), ',');
    if (cells.size() != header.size()) {
      return absl::DataLossError(absl::StrCat(name, ":", r + 1, ": ", cells.size(),
                                              " fields, header has ", header.size()));
    }
    for (int c : task_cols) {
      const std::string& v = cells[c];
      if (v != "" && v != "0" && v != "1" && v != "0.0" && v != "1.0") {
        return absl::DataLossError(
            absl::StrCat(name, ":", r + 1, ": label '", v, "' is not 0, 1 or empty"));
      }
    }
    absl::StatusOr<torch::Tensor> fp = EcfpBits(cells[smiles_col], 2, bits);
    if (!fp.ok()) {
      ++data.invalid_smiles;
      continue;
    }
    features.push_back(*fp);
    for (int c : task_cols) labels.push_back(cells[c].empty() ? NAN : std::stof(cells[c]));
  }
  if (features.empty()) return absl::DataLossError(absl::StrCat(name, ": no valid molecules"));
  if (std::none_of(labels.begin(), labels.end(), [](float v) { return !std::isnan(v); })) {
    return absl::DataLossError(absl::StrCat(name, ": every label is empty (nothing to train on)"));
  }
  data.features = torch::stack(features);
  data.labels = torch::tensor(labels).view({-1, kTox21Tasks});
  return data;
}

absl::StatusOr<Tox21Data> ReadTox21Csv(const std::string& path, int bits) {
  ASSIGN_OR_RETURN(std::string text, common::data::ReadFileBytes(path));
  return ParseTox21Csv(text, path, bits);
}

namespace {

absl::StatusOr<Tox21Data> ReadOriginalSplit(const std::string& path,
                                            const torch::Tensor& features) {
  ASSIGN_OR_RETURN(common::data::NpzArrays arrays, common::data::ReadNpz(path));
  if (!arrays.count("labels") || !arrays.count("compound_idx")) {
    return absl::DataLossError(absl::StrCat(path, ": wants arrays 'labels' and 'compound_idx'"));
  }
  const torch::Tensor labels = arrays["labels"].to(torch::kFloat);
  const torch::Tensor idx = arrays["compound_idx"].to(torch::kInt64).flatten();
  if (labels.dim() != 2 || labels.size(1) != kTox21Tasks || labels.size(0) != idx.size(0)) {
    return absl::DataLossError(
        absl::StrCat(path, ": labels must be [N, 12] with N compound_idx entries"));
  }
  if (idx.numel() > 0 &&
      (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= features.size(0))) {
    return absl::DataLossError(
        absl::StrCat(path, ": compound_idx outside the ", features.size(0), " feature rows"));
  }
  const torch::Tensor known =
      (labels == 0) | (labels == 1);  // same as reference: others are missing
  return Tox21Data{features.index_select(0, idx), labels.masked_fill(~known, NAN), 0};
}

}  // namespace

absl::StatusOr<Tox21Splits> ReadTox21Original(const std::string& dir,
                                              const std::string& features_path) {
  std::string fpath = features_path;
  if (fpath.empty()) {
    fpath = dir + "/compound_features_cddd.npy";
    if (!common::data::FileExists(fpath))
      fpath = dir + "/tox21_original/compound_features_cddd.npy";
  }
  ASSIGN_OR_RETURN(torch::Tensor features, common::data::ReadNpy(fpath));
  if (features.dim() != 2)
    return absl::DataLossError(absl::StrCat(fpath, ": want a [compounds, features] matrix"));
  features = features.to(torch::kFloat);
  Tox21Splits s;
  ASSIGN_OR_RETURN(s.train, ReadOriginalSplit(dir + "/tox21_original/train_data.npz", features));
  ASSIGN_OR_RETURN(s.valid, ReadOriginalSplit(dir + "/tox21_original/valid_data.npz", features));
  ASSIGN_OR_RETURN(s.test, ReadOriginalSplit(dir + "/tox21_original/test_data.npz", features));
  return s;
}

absl::StatusOr<Tox21Splits> LoadTox21Dir(const std::string& dir, const std::string& features_path,
                                         int bits) {
  if (common::data::FileExists(dir + "/tox21_original/train_data.npz"))
    return ReadTox21Original(dir, features_path);
  std::string path = dir + "/tox21.csv";
  if (!common::data::FileExists(path)) path += ".gz";
  Tox21Splits s;
  ASSIGN_OR_RETURN(s.train, ReadTox21Csv(path, bits));
  return s;
}

torch::Tensor MaskedBceWithLogits(const torch::Tensor& logits, const torch::Tensor& labels,
                                  bool sum) {
  const torch::Tensor known = ~torch::isnan(labels);
  if (known.sum().item<int64_t>() == 0)
    return logits.sum() * 0;  // no label in this batch: zero, with a graph
  return torch::binary_cross_entropy_with_logits(logits.masked_select(known),
                                                 labels.masked_select(known), {}, {},
                                                 sum ? at::Reduction::Sum : at::Reduction::Mean);
}

}  // namespace icnn
