#include "common/util/allocator.h"

#include <dlfcn.h>

#include "gtest/gtest.h"

namespace common::util {
namespace {

// Linked with //common/util:allocator, this process's malloc is tcmalloc's.
TEST(Allocator, TcmallocServesMalloc) {
#ifdef COMMON_ASAN
  GTEST_SKIP() << "--config=asan: AddressSanitizer's malloc, no tcmalloc";
#endif
  EXPECT_EQ(MallocName().rfind("tcmalloc 2.", 0), 0u) << MallocName();
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "malloc"), dlsym(RTLD_DEFAULT, "tc_malloc"));
}

}  // namespace
}  // namespace common::util
