#include "common/plot/curves.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/file_bytes.h"
#include "common/plot/plot.h"
#include "common/report/run_files.h"
#include "common/train/run_identity.h"
#include "common/util/status_macros.h"

namespace common::plot {
namespace {

// Runs whose configs differ only in --seed and the flags outside a run's identity are seeds of
// one curve.
nlohmann::json Setting(nlohmann::json config) {
  if (!config.is_object()) return config;
  config.erase("seed");
  for (const char* key : train::kFlagsOutsideIdentity) config.erase(key);
  return config;
}

struct Run {
  std::string dir;
  report::Csv metrics;
  nlohmann::json setting;  // Setting(config.json) (null when absent)
};

absl::StatusOr<Run> ReadRun(const std::string& dir) {
  Run run{dir, {}, nullptr};
  ASSIGN_OR_RETURN(run.metrics, report::ReadCsv(dir + "/metrics.csv"));
  if (run.metrics.header.empty() || run.metrics.rows.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(dir, "/metrics.csv: no rows yet"));
  }
  if (data::FileExists(dir + "/config.json")) {
    ASSIGN_OR_RETURN(const std::string text, data::ReadFileBytes(dir + "/config.json"));
    run.setting = Setting(nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false));
  }
  return run;
}

std::string BaseName(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return std::filesystem::path(d).filename().string();
}

// x -> y of a run's column, finite values only.
using XY = std::map<double, double>;
absl::StatusOr<XY> Curve(const Run& run, const std::string& column) {
  ASSIGN_OR_RETURN(const std::vector<double> x, run.metrics.Column(run.metrics.header[0]));
  absl::StatusOr<std::vector<double>> y = run.metrics.Column(column);
  if (!y.ok()) return absl::NotFoundError(absl::StrCat(run.dir, ": ", y.status().message()));
  XY out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isfinite(x[i]) && std::isfinite((*y)[i])) out[x[i]] = (*y)[i];
  }
  return out;
}

// Labels of groups: the settings that differ between groups ("lr=0.1 wd=0"), else the first
// run's directory name.
std::vector<std::string> GroupLabels(const std::vector<std::vector<const Run*>>& groups) {
  std::set<std::string> differing;
  for (const auto& g : groups) {
    if (!g[0]->setting.is_object()) continue;
    for (const auto& [key, value] : g[0]->setting.items()) {
      for (const auto& h : groups) {
        if (!h[0]->setting.is_object() || h[0]->setting.value(key, nlohmann::json()) != value) {
          differing.insert(key);
        }
      }
    }
  }
  std::vector<std::string> labels;
  for (const auto& g : groups) {
    std::vector<std::string> parts;
    for (const std::string& key : differing) {
      if (g[0]->setting.is_object() && g[0]->setting.contains(key)) {
        const nlohmann::json& v = g[0]->setting[key];
        parts.push_back(absl::StrCat(key, "=", v.is_string() ? v.get<std::string>() : v.dump()));
      }
    }
    std::string label =
        parts.empty() || parts.size() > 3 ? BaseName(g[0]->dir) : absl::StrJoin(parts, " ");
    if (g.size() > 1) absl::StrAppend(&label, " (median of ", g.size(), ")");
    labels.push_back(label);
  }
  return labels;
}

}  // namespace

std::vector<std::string> LossAndAccuracyColumns(const std::vector<std::string>& header) {
  std::vector<std::string> out;
  for (size_t i = 1; i < header.size(); ++i) {
    if (absl::StrContains(header[i], "loss") || absl::StrContains(header[i], "acc")) {
      out.push_back(header[i]);
    }
  }
  return out;
}

absl::StatusOr<std::vector<Panel>> CurvePanels(const CurvesOptions& options) {
  if (options.run_dirs.empty()) return absl::InvalidArgumentError("no run directories given");
  std::vector<Run> runs;
  for (const std::string& dir : options.run_dirs) {
    ASSIGN_OR_RETURN(Run run, ReadRun(dir));
    if (!runs.empty() && run.metrics.header[0] != runs[0].metrics.header[0]) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, " logs by ", run.metrics.header[0], ", ", runs[0].dir, " by ",
                       runs[0].metrics.header[0], ": curves of one figure need the same x column"));
    }
    runs.push_back(std::move(run));
  }
  std::vector<std::string> columns = options.columns;
  if (columns.empty()) {
    columns.assign(runs[0].metrics.header.begin() + 1, runs[0].metrics.header.end());
  }
  if (columns.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(runs[0].dir, "/metrics.csv has no columns"));
  }
  // Groups: one run each, or runs of one setting together.
  std::vector<std::vector<const Run*>> groups;
  for (const Run& run : runs) {
    auto same = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
      return options.median && !run.setting.is_null() && g[0]->setting == run.setting;
    });
    if (same == groups.end()) {
      groups.push_back({&run});
    } else {
      same->push_back(&run);
    }
  }
  const std::vector<std::string> labels = GroupLabels(groups);
  std::vector<Panel> panels;
  for (const std::string& column : columns) {
    Panel panel{{column, runs[0].metrics.header[0], "", false, options.log_y}, {}, true};
    for (size_t g = 0; g < groups.size(); ++g) {
      std::vector<XY> curves;
      for (const Run* run : groups[g]) {
        ASSIGN_OR_RETURN(XY curve, Curve(*run, column));
        curves.push_back(std::move(curve));
      }
      if (curves.size() == 1) {
        Series s{labels[g], {}, {}, {}, {}};
        for (const auto& [x, y] : curves[0]) s.x.push_back(x), s.y.push_back(y);
        panel.series.push_back(std::move(s));
        continue;
      }
      // The steps every seed logged.
      std::vector<double> xs;
      for (const auto& [x, y] : curves[0]) {
        if (std::all_of(curves.begin(), curves.end(),
                        [x = x](const auto& c) { return c.count(x) > 0; })) {
          xs.push_back(x);
        }
      }
      std::vector<std::vector<double>> values(curves.size());
      for (size_t r = 0; r < curves.size(); ++r) {
        for (double x : xs) values[r].push_back(curves[r].at(x));
      }
      panel.series.push_back(MedianBand(labels[g], xs, values));
    }
    panels.push_back(std::move(panel));
  }
  return panels;
}

absl::Status DrawCurves(const std::string& path, const CurvesOptions& options) {
  ASSIGN_OR_RETURN(const std::vector<Panel> panels, CurvePanels(options));
  const int cols = std::min<int>(3, panels.size());
  const int rows = (static_cast<int>(panels.size()) + cols - 1) / cols;
  return LinePlotGrid(path, rows, cols, panels);
}

}  // namespace common::plot
