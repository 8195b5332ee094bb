// For tests: files they carry in their runfiles, and the Python interpreter they compare with.
//
// Example:
//   const std::string script = common::testing::RunfilesPath("common/train/read_tfevents.py");
//   if (const std::string why = common::testing::PythonModuleMissing("torch", "python3-torch");
//       !why.empty()) GTEST_SKIP() << why;
#ifndef COMMON_TESTING_RUNFILES_H_
#define COMMON_TESTING_RUNFILES_H_

#include <string>

namespace common::testing {

// $TEST_SRCDIR/$TEST_WORKSPACE/<path> under `bazel test` (./dl_papers/<path> outside it); the
// root itself for an empty path.
std::string RunfilesPath(const std::string& path);

// $PYTHON, else /usr/bin/python3 (Debian's, with python3-torch and python3-protobuf).
std::string Python();

// Empty when Python() imports `module`; else the reason to skip, naming the Debian package.
std::string PythonModuleMissing(const std::string& module, const std::string& debian_package);

}  // namespace common::testing

#endif  // COMMON_TESTING_RUNFILES_H_
