// Whole-file reads and atomic writes, with transparent gzip for names ending in ".gz".
//
// Example:
//   ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes("train-images-idx3-ubyte.gz"));
//   RETURN_IF_ERROR(WriteFileAtomically("out/summary.json", json_text));
#ifndef COMMON_DATA_FILE_BYTES_H_
#define COMMON_DATA_FILE_BYTES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace common::data {

// Reads the whole file. A ".gz" name is decompressed; a truncated or corrupt gzip stream is
// DataLoss, a missing file NotFound. Messages name the file.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path);

// Writes `bytes` (gzip-compressed when `path` ends in ".gz") to a temporary file next to
// `path` and renames it over `path`, so readers never see a partial file.
absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes);

// Creates `dir` and its parents (like mkdir -p).
absl::Status MakeDirs(const std::string& dir);

bool FileExists(const std::string& path);

}  // namespace common::data

#endif  // COMMON_DATA_FILE_BYTES_H_
