// Up-front memory checks: a size from the user (layers, widths, feature bits) that cannot fit is
// a clear error before allocation, not a process the kernel kills after it grew past the RAM.
//
// Example:
//   RETURN_IF_ERROR(CheckFitsInMemory(rows * bits * 4.0, "--bits=100000000 (features of 7831
//   molecules)"));
#ifndef COMMON_UTIL_MEMORY_H_
#define COMMON_UTIL_MEMORY_H_

#include <string>

#include "absl/status/status.h"

namespace common::util {

// Physical memory of this machine in bytes (sysconf); 0 when unknown.
double PhysicalMemoryBytes();

// ResourceExhausted "<what> needs 12.3 GB, more than this machine's 8.0 GB of memory" when
// `bytes` exceeds the physical memory (or `limit_bytes` when > 0); OK otherwise or when unknown.
absl::Status CheckFitsInMemory(double bytes, const std::string& what, double limit_bytes = 0);

}  // namespace common::util

#endif  // COMMON_UTIL_MEMORY_H_
