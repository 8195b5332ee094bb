// List-valued flags, one syntax for every binary: items separated by commas and/or spaces
// (`--depths=2,5,10`, `--lip='2.0 0.8'`; argparse-style `--lip 2.0 0.8` is joined first by
// JoinListFlags in runtime.h). Errors are one line naming the flag and the bad item.
#ifndef COMMON_UTIL_LIST_FLAG_H_
#define COMMON_UTIL_LIST_FLAG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace common::util {

// The non-empty items of `text`.
std::vector<std::string> ParseStringList(absl::string_view text);

// Integers; an item that is not one is "--<flag>: 'x' is not an integer".
absl::StatusOr<std::vector<int64_t>> ParseIntList(absl::string_view flag, absl::string_view text);

// Finite numbers; an item that is not one (or is nan / inf) is "--<flag>: 'x' is not a finite
// number".
absl::StatusOr<std::vector<double>> ParseDoubleList(absl::string_view flag, absl::string_view text);

}  // namespace common::util

#endif  // COMMON_UTIL_LIST_FLAG_H_
