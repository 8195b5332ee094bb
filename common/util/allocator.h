// Which malloc serves LibTorch's CPU tensors. Every binary, test and benchmark that links
// //common/util:runtime or the benchmarks' main links tcmalloc (Debian's libtcmalloc-minimal4):
// LibTorch allocates and frees tensors of tens of MB at every step, which glibc's malloc hands
// back to the kernel (mmap / munmap above 32 MB) and then faults in again page by page. On the
// 2-core VMs here that kernel work was ~40% of a DWP KL evaluation; tcmalloc keeps the pages.
//
// Example:
//   benchmark::AddCustomContext("malloc", common::util::MallocName());
#ifndef COMMON_UTIL_ALLOCATOR_H_
#define COMMON_UTIL_ALLOCATOR_H_

#include <string>

namespace common::util {

// "tcmalloc <version>" when tcmalloc serves malloc in this process, else "glibc".
std::string MallocName();

}  // namespace common::util

#endif  // COMMON_UTIL_ALLOCATOR_H_
