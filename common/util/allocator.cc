#include "common/util/allocator.h"

#include <dlfcn.h>

#include <string>

namespace common::util {

std::string MallocName() {
  // tcmalloc defines malloc as an alias of tc_malloc: both names resolve to one address when its
  // malloc is the one this process calls (and not when the library is merely loaded).
  void* tc_malloc = dlsym(RTLD_DEFAULT, "tc_malloc");
  if (tc_malloc == nullptr || dlsym(RTLD_DEFAULT, "malloc") != tc_malloc) return "glibc";
  using VersionFn = const char* (*)(int*, int*, const char**);
  auto version = reinterpret_cast<VersionFn>(dlsym(RTLD_DEFAULT, "tc_version"));
  if (version == nullptr) return "tcmalloc";
  int major = 0, minor = 0;
  const char* patch = nullptr;
  version(&major, &minor, &patch);
  return "tcmalloc " + std::to_string(major) + "." + std::to_string(minor);
}

}  // namespace common::util
