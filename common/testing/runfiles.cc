#include "common/testing/runfiles.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace common::testing {

std::string RunfilesPath(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  const std::string root =
      absl::StrCat(srcdir ? srcdir : ".", "/", workspace ? workspace : "dl_papers");
  return path.empty() ? root : absl::StrCat(root, "/", path);
}

std::string Python() {
  const char* python = std::getenv("PYTHON");
  return python != nullptr ? python : "/usr/bin/python3";
}

std::string PythonModuleMissing(const std::string& module, const std::string& debian_package) {
  const std::string python = Python();
  const std::string command = absl::StrCat(python, " -c 'import ", module, "' > /dev/null 2>&1");
  if (std::system(command.c_str()) == 0) return "";
  return absl::StrCat(python, " with ", module, " is not installed (Debian: apt install ",
                      debian_package, ")");
}

}  // namespace common::testing
