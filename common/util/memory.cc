#include "common/util/memory.h"

#include <unistd.h>

#include "absl/strings/str_format.h"

namespace common::util {

double PhysicalMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0;
}

absl::Status CheckFitsInMemory(double bytes, const std::string& what, double limit_bytes) {
  const double limit = limit_bytes > 0 ? limit_bytes : PhysicalMemoryBytes();
  if (limit <= 0 || bytes <= limit) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrFormat("%s needs %.1f GB, more than this machine's %.1f GB of memory", what,
                      bytes / 1e9, limit / 1e9));
}

}  // namespace common::util
