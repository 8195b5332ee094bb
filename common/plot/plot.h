// Figures without Python, drawn by PLplot: line plots with median and inter-quartile bands
// (linear or log axes), histograms, heatmaps (covariance / correlation matrices) and sparsity
// patterns. The file name picks the format: ".svg" (PLplot's svg driver) or ".png" (pngcairo).
//
// Example:
//   Series s = MedianBand("ours", epochs, runs);  // runs[r][i]: run r at epochs[i]
//   RETURN_IF_ERROR(LinePlot("fig3.svg", {.title = "test loss", .log_y = true}, {s}));
#ifndef COMMON_PLOT_PLOT_H_
#define COMMON_PLOT_PLOT_H_

#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace common::plot {

struct Axes {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  bool log_x = false;
  bool log_y = false;
  // Fixed y range when both are finite (lines outside are clipped), else fitted to the data.
  double y_min = NAN;
  double y_max = NAN;
};

struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
  // Optional band drawn under the line (both empty, or both the size of x).
  std::vector<double> lower;
  std::vector<double> upper;
};

// Matrix in row-major order: values[r * cols + c].
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> values;
};

// The median line with the 25th-75th percentile band of runs[r][i] (all runs the size of x).
Series MedianBand(std::string name, std::vector<double> x,
                  const std::vector<std::vector<double>>& runs);

// q-quantile (0..1) of values by linear interpolation between order statistics (numpy default).
double Quantile(std::vector<double> values, double q);

absl::Status LinePlot(const std::string& path, const Axes& axes, const std::vector<Series>& series);

struct Panel {
  Axes axes;
  std::vector<Series> series;
  bool legend = true;
};

// Line plots on a rows x cols grid, filled row by row (at most rows * cols panels).
absl::Status LinePlotGrid(const std::string& path, int rows, int cols,
                          const std::vector<Panel>& panels);

// Histogram of `values` in `bins` equal-width bins over [min, max].
absl::Status Histogram(const std::string& path, const Axes& axes, const std::vector<double>& values,
                       int bins);

// Colour image of the matrix, row 0 at the top. With `symmetric` the colour scale is
// [-max|v|, max|v|] (blue-white-red), else [min, max]. The range goes into the x label.
absl::Status Heatmap(const std::string& path, const Axes& axes, const Matrix& m,
                     bool symmetric = true);

// One dot per non-zero entry (|v| > threshold), row 0 at the top, like matplotlib's spy.
absl::Status SparsityPattern(const std::string& path, const Axes& axes, const Matrix& m,
                             double threshold = 0);

}  // namespace common::plot

#endif  // COMMON_PLOT_PLOT_H_
