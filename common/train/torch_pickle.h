// Reads the state dicts that Python's torch.save writes, in both of its formats:
//
// - the zip archive of torch >= 1.6 (`archive/data.pkl` + one record per storage), which is also
//   what LibTorch's torch::pickle_save writes;
// - the legacy stream of torch < 1.6 (magic number, protocol version, system info, the pickle,
//   the storage keys, then each storage's bytes), e.g. the DWP authors' released VAEs.
//
// The top-level object may be a dict or a `collections.OrderedDict` (what
// `model.state_dict()` returns; LibTorch 1.13's own unpickler turns that into None, since it
// special-cases OrderedDict before consulting a type resolver). Tensors come from
// `torch._utils._rebuild_tensor_v2` / `_rebuild_tensor` / `_rebuild_parameter`; storages saved
// on a GPU load on the CPU. Anything else (a pickled nn.Module, a dict holding ints) is an error
// that names the type found. The pickle is interpreted by a small stack machine written for this
// subset: nothing in the file is executed.
//
// Example:
//   ASSIGN_OR_RETURN(TensorMap state, ReadTorchSave("vae_params.torch", bytes));
#ifndef COMMON_TRAIN_TORCH_PICKLE_H_
#define COMMON_TRAIN_TORCH_PICKLE_H_

#include <torch/types.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace common::train {

using TensorMap = std::map<std::string, torch::Tensor>;

// `bytes` is the content of the file `source` (named in errors). Errors are DataLoss, one line.
absl::StatusOr<TensorMap> ReadTorchSave(const std::string& source, const std::string& bytes);

}  // namespace common::train

#endif  // COMMON_TRAIN_TORCH_PICKLE_H_
