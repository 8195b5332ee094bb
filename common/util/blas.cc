#include "common/util/blas.h"

#include <dlfcn.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace common::util {
namespace {

bool CpuHasAvx2() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) return line.find(" avx2") != std::string::npos;
  }
  return false;
}

}  // namespace

std::string BlasCoreName() {
  using CoreNameFn = char* (*)();
  auto fn = reinterpret_cast<CoreNameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (fn == nullptr) return "";
  const char* name = fn();
  return name == nullptr ? "" : name;
}

std::string BlasAdvice() {
  const std::string core = BlasCoreName();
  if (core != "Prescott" && core != "prescott") return "";
  if (!CpuHasAvx2()) return "";
  return absl::StrCat("OpenBLAS did not recognise this CPU and runs its generic kernel (", core,
                      "), 3-5x slower: start binaries through ./bazelw, or set "
                      "OPENBLAS_CORETYPE=Haswell (or SkylakeX with AVX-512)");
}

}  // namespace common::util
