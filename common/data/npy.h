// NumPy .npy (format versions 1, 2 and 3) and .npz (zip of .npy members, read through libzip).
//
// Supported dtypes: float32 '<f4', float64 '<f8', int64 '<i8', int32 '<i4', uint8 '|u1',
// int8 '|i1', bool '|b1'. Fortran-ordered arrays are read into C order.
//
// Example:
//   ASSIGN_OR_RETURN(torch::Tensor kernels, ReadNpy("data/conv7x7/test.npy"));
//   ASSIGN_OR_RETURN(NpzArrays arrays, ReadNpz("train_data.npz"));  // arrays.at("labels")
#ifndef COMMON_DATA_NPY_H_
#define COMMON_DATA_NPY_H_

#include <torch/types.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace common::data {

using NpzArrays = std::map<std::string, torch::Tensor>;

// Parses the bytes of one .npy file; `name` appears in error messages.
absl::StatusOr<torch::Tensor> ParseNpy(const std::string& bytes, const std::string& name);

// Serialises a CPU or CUDA tensor of a supported dtype as .npy (v1 header, v2 if needed).
absl::StatusOr<std::string> SerializeNpy(const torch::Tensor& t);

absl::StatusOr<torch::Tensor> ReadNpy(const std::string& path);
absl::Status WriteNpy(const std::string& path, const torch::Tensor& t);

// Reads every member "<key>.npy" of an .npz archive (stored or deflated) as arrays[key].
absl::StatusOr<NpzArrays> ReadNpz(const std::string& path);
// Writes an uncompressed .npz (what numpy.savez writes), atomically.
absl::Status WriteNpz(const std::string& path, const NpzArrays& arrays);

}  // namespace common::data

#endif  // COMMON_DATA_NPY_H_
