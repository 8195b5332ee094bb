// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status, defined once for the repository because
// Debian's Abseil (20220623) predates Abseil's own macros.
//
// Example:
//   absl::StatusOr<Tensor> LoadImages(const std::string& path);
//   absl::Status Run() {
//     ASSIGN_OR_RETURN(Tensor images, LoadImages("train.idx"));
//     RETURN_IF_ERROR(Validate(images));
//     return absl::OkStatus();
//   }
#ifndef COMMON_UTIL_STATUS_MACROS_H_
#define COMMON_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define COMMON_STATUS_CONCAT_INNER_(a, b) a##b
#define COMMON_STATUS_CONCAT_(a, b) COMMON_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)             \
  do {                                    \
    const absl::Status _status_ = (expr); \
    if (!_status_.ok()) return _status_;  \
  } while (0)

// `lhs` may be a declaration (`Tensor t`) or an existing variable.
#define ASSIGN_OR_RETURN(lhs, expr) \
  COMMON_ASSIGN_OR_RETURN_IMPL_(COMMON_STATUS_CONCAT_(_statusor_, __LINE__), lhs, expr)

#define COMMON_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // COMMON_UTIL_STATUS_MACROS_H_
