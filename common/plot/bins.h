// Equal-width binning, shared by the histogram figure (plot.h) and TensorBoard's histograms
// (common/train/tensorboard.h). Header only: the TensorBoard writer does not link PLplot.
#ifndef COMMON_PLOT_BINS_H_
#define COMMON_PLOT_BINS_H_

#include <algorithm>
#include <cmath>
#include <vector>

namespace common::plot {

// The finite values of `values`, in order.
inline std::vector<double> FiniteValues(const std::vector<double>& values) {
  std::vector<double> finite;
  for (double v : values) {
    if (std::isfinite(v)) finite.push_back(v);
  }
  return finite;
}

// Counts of the finite values in `bins` bins of width `width` from `lo` (bin b holds
// [lo + b width, lo + (b + 1) width); the last one also its upper edge and, like the first, what
// rounding puts beyond it). Non-finite values are not counted.
inline std::vector<double> BinCounts(const std::vector<double>& values, double lo, double width,
                                     int bins) {
  std::vector<double> counts(static_cast<size_t>(std::max(bins, 1)), 0);
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    const double b = std::floor((v - lo) / width);
    counts[static_cast<size_t>(std::clamp(b, 0.0, static_cast<double>(counts.size() - 1)))] += 1;
  }
  return counts;
}

}  // namespace common::plot

#endif  // COMMON_PLOT_BINS_H_
