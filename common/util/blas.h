// Which BLAS kernel LibTorch's matrix products run on. Debian's libtorch calls the system
// libblas.so.3; with OpenBLAS, a CPU it does not recognise (some virtual machines) gets the
// generic "Prescott" kernel, 3-5x slower than the AVX2/AVX-512 ones. ./bazelw sets
// OPENBLAS_CORETYPE from the CPU's features; binaries started another way warn.
//
// Example:
//   if (std::string advice = BlasAdvice(); !advice.empty()) LOG(WARNING) << advice;
#ifndef COMMON_UTIL_BLAS_H_
#define COMMON_UTIL_BLAS_H_

#include <string>

namespace common::util {

// OpenBLAS's kernel name ("SkylakeX", "Haswell", "Prescott", ...), or "" when the BLAS in use is
// not OpenBLAS.
std::string BlasCoreName();

// A one-line warning when OpenBLAS runs its generic kernel on a CPU with AVX2, else "".
std::string BlasAdvice();

}  // namespace common::util

#endif  // COMMON_UTIL_BLAS_H_
