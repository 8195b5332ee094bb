// A config struct lists its fields once, in a VisitFields member; its JSON comes from that list
// (compare two with common::train::ConfigDifferences, run_dir.h). Field types: bool, integers,
// double, std::string and std::vector of those.
//
// Example:
//   struct Config {
//     int64_t epochs = 10;
//     std::vector<int64_t> sizes = {50, 200};
//     template <class Visitor>
//     void VisitFields(Visitor&& v) {
//       v("epochs", epochs);
//       v("sizes", sizes);
//     }
//   };
//   nlohmann::json j = common::train::FieldsToJson(config);
//   ASSIGN_OR_RETURN(Config back, common::train::FieldsFromJson<Config>(j, "config.json"));
#ifndef COMMON_TRAIN_FIELDS_H_
#define COMMON_TRAIN_FIELDS_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace common::train {

// {"name": value, ...}.
template <class Config>
nlohmann::json FieldsToJson(const Config& config) {
  nlohmann::json out = nlohmann::json::object();
  const_cast<Config&>(config).VisitFields(
      [&out](const char* name, const auto& value) { out[name] = value; });
  return out;
}

// The config whose fields `json` holds; every field must be present with its type. An error is
// one line naming `source` and the field.
template <class Config>
absl::StatusOr<Config> FieldsFromJson(const nlohmann::json& json, const std::string& source) {
  Config config;
  absl::Status status;
  if (!json.is_object()) return absl::DataLossError(absl::StrCat(source, ": not a JSON object"));
  config.VisitFields([&](const char* name, auto& value) {
    if (!status.ok()) return;
    if (!json.contains(name)) {
      status = absl::DataLossError(absl::StrCat(source, ": no field '", name, "'"));
      return;
    }
    try {
      json.at(name).get_to(value);
    } catch (const nlohmann::json::exception&) {
      status = absl::DataLossError(
          absl::StrCat(source, ": field '", name, "' has the wrong type: ", json.at(name).dump()));
    }
  });
  if (!status.ok()) return status;
  return config;
}

}  // namespace common::train

#endif  // COMMON_TRAIN_FIELDS_H_
