#include "common/util/list_flag.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace common::util {

std::vector<std::string> ParseStringList(absl::string_view text) {
  return absl::StrSplit(text, absl::ByAnyChar(", "), absl::SkipEmpty());
}

absl::StatusOr<std::vector<int64_t>> ParseIntList(absl::string_view flag, absl::string_view text) {
  std::vector<int64_t> out;
  for (const std::string& item : ParseStringList(text)) {
    int64_t v;
    if (!absl::SimpleAtoi(item, &v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": '", item, "' is not an integer"));
    }
    out.push_back(v);
  }
  return out;
}

absl::StatusOr<std::vector<double>> ParseDoubleList(absl::string_view flag,
                                                    absl::string_view text) {
  std::vector<double> out;
  for (const std::string& item : ParseStringList(text)) {
    double v;
    if (!absl::SimpleAtod(item, &v) || !std::isfinite(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, ": '", item, "' is not a finite number"));
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace common::util
