#include "common/data/idx.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/file_bytes.h"
#include "common/util/status_macros.h"

namespace common::data {
namespace {

struct IdxType {
  uint8_t code;
  torch::ScalarType dtype;
};

constexpr IdxType kIdxTypes[] = {
    {0x08, torch::kUInt8}, {0x09, torch::kInt8},    {0x0B, torch::kInt16},
    {0x0C, torch::kInt32}, {0x0D, torch::kFloat32}, {0x0E, torch::kFloat64},
};

uint32_t ReadBigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void PutBigEndian32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

// IDX stores multi-byte values big-endian; this machine is little-endian.
void SwapBytesInPlace(torch::Tensor& t) {
  const int64_t size = t.element_size();
  if (size == 1) return;
  auto* p = static_cast<unsigned char*>(t.data_ptr());
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i, p += size) std::reverse(p, p + size);
}

std::string ShapeString(const std::vector<int64_t>& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

absl::StatusOr<torch::Tensor> LoadSplitFile(const std::string& dir, const std::string& stem) {
  const std::string raw = absl::StrCat(dir, "/", stem);
  if (FileExists(raw)) return ReadIdx(raw);
  if (FileExists(raw + ".gz")) return ReadIdx(raw + ".gz");
  return absl::NotFoundError(absl::StrCat(dir, ": missing ", stem, " (or ", stem, ".gz)"));
}

absl::Status LoadSplit(const std::string& dir, const std::string& prefix, torch::Tensor* images,
                       torch::Tensor* labels) {
  ASSIGN_OR_RETURN(torch::Tensor x, LoadSplitFile(dir, prefix + "-images-idx3-ubyte"));
  ASSIGN_OR_RETURN(torch::Tensor y, LoadSplitFile(dir, prefix + "-labels-idx1-ubyte"));
  if (x.dim() != 3 || x.scalar_type() != torch::kUInt8) {
    return absl::DataLossError(
        absl::StrCat(dir, "/", prefix, "-images-idx3-ubyte: expected uint8 [N,H,W] images"));
  }
  if (y.dim() != 1 || y.size(0) != x.size(0)) {
    return absl::DataLossError(absl::StrCat(dir, "/", prefix, "-labels-idx1-ubyte: ", y.numel(),
                                            " labels for ", x.size(0), " images"));
  }
  *images = x.unsqueeze(1);
  *labels = y.to(torch::kInt64);
  const torch::Tensor bad = (*labels >= kIdxClasses).nonzero();
  if (bad.numel() > 0) {
    const std::string stem = absl::StrCat(dir, "/", prefix, "-labels-idx1-ubyte");
    const int64_t at = bad[0][0].item<int64_t>();
    return absl::DataLossError(absl::StrCat(
        FileExists(stem) ? stem : stem + ".gz", ": label ", (*labels)[at].item<int64_t>(),
        " at index ", at, " is outside [0, ", kIdxClasses, ") (", bad.size(0), " such labels)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<torch::Tensor> ParseIdx(const std::string& bytes, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4 || p[0] != 0 || p[1] != 0) {
    return absl::DataLossError(absl::StrCat(name, ": not an IDX file (bad magic number)"));
  }
  const IdxType* type = nullptr;
  for (const IdxType& t : kIdxTypes) {
    if (t.code == p[2]) type = &t;
  }
  if (type == nullptr) {
    return absl::DataLossError(
        absl::StrCat(name, ": unknown IDX element type 0x", absl::Hex(p[2])));
  }
  const int rank = p[3];
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (rank == 0 || bytes.size() < header) {
    return absl::DataLossError(absl::StrCat(name, ": truncated IDX header (rank ", rank, ")"));
  }
  std::vector<int64_t> dims;
  uint64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    dims.push_back(ReadBigEndian32(p + 4 + 4 * i));
    count *= static_cast<uint64_t>(dims.back());
  }
  torch::Tensor t = torch::empty(dims, torch::TensorOptions().dtype(type->dtype));
  const uint64_t expected = header + count * t.element_size();
  if (bytes.size() != expected) {
    return absl::DataLossError(absl::StrCat(name, ": ", bytes.size(), " bytes but shape ",
                                            ShapeString(dims), " needs ", expected,
                                            bytes.size() < expected ? " (truncated)" : ""));
  }
  std::memcpy(t.data_ptr(), p + header, count * t.element_size());
  SwapBytesInPlace(t);
  return t;
}

absl::StatusOr<torch::Tensor> ReadIdx(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  return ParseIdx(bytes, path);
}

absl::Status WriteIdx(const std::string& path, const torch::Tensor& t) {
  const IdxType* type = nullptr;
  for (const IdxType& candidate : kIdxTypes) {
    if (candidate.dtype == t.scalar_type()) type = &candidate;
  }
  if (type == nullptr || t.dim() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": IDX cannot hold a ", t.dim(), "-d ",
                                                   std::string(t.dtype().name()), " tensor"));
  }
  std::string out = {0, 0, static_cast<char>(type->code), static_cast<char>(t.dim())};
  for (int64_t d : t.sizes()) PutBigEndian32(static_cast<uint32_t>(d), &out);
  torch::Tensor data = t.contiguous().cpu().clone();
  SwapBytesInPlace(data);
  out.append(static_cast<const char*>(data.data_ptr()), data.numel() * data.element_size());
  return WriteFileAtomically(path, out);
}

absl::StatusOr<ImageSplits> LoadMnistDirectory(const std::string& dir) {
  ImageSplits s;
  s.format = "idx";
  RETURN_IF_ERROR(LoadSplit(dir, "train", &s.train_images, &s.train_labels));
  RETURN_IF_ERROR(LoadSplit(dir, "t10k", &s.test_images, &s.test_labels));
  if (s.train_images.sizes().slice(1) != s.test_images.sizes().slice(1)) {
    return absl::DataLossError(absl::StrCat(dir, ": train and test images differ in shape"));
  }
  s.num_classes = kIdxClasses;
  return s;
}

bool LooksLikeMnistDirectory(const std::string& dir) {
  const std::string stem = dir + "/train-images-idx3-ubyte";
  return FileExists(stem) || FileExists(stem + ".gz");
}

}  // namespace common::data
