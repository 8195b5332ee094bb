#include "common/plot/plot.h"

#include <plplot/plstream.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/data/file_bytes.h"
#include "common/plot/bins.h"
#include "common/util/status_macros.h"

namespace common::plot {
namespace {

constexpr int kWidth = 800;
constexpr int kHeight = 600;

// Colour-map-0 indices of the series palette (set in Figure::Open).
constexpr int kFirstSeriesColor = 2;
constexpr int kPalette[][3] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                               {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127}};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

absl::StatusOr<std::string> DeviceFor(const std::string& path) {
  if (absl::EndsWith(path, ".svg")) return std::string("svg");
  if (absl::EndsWith(path, ".png")) return std::string("pngcairo");
  return absl::InvalidArgumentError(absl::StrCat(path, ": figure name must end in .svg or .png"));
}

// A figure being drawn: a PLplot stream on white background, black axes, the series palette in
// colours 2..., writing to a temporary beside `path`. Finish() ends the stream, checks that the
// file is complete (PLplot does not report write errors: a full disk left truncated figures) and
// moves it into place atomically; a figure that is not finished leaves no file behind.
class Figure {
 public:
  static absl::StatusOr<Figure> Open(const std::string& path, int rows = 1, int cols = 1) {
    ASSIGN_OR_RETURN(std::string device, DeviceFor(path));
    Figure f(path);
    f.pls_ = std::make_unique<plstream>();
    f.pls_->sdev(device.c_str());
    f.pls_->sfnam(f.tmp_.c_str());
    f.pls_->spage(0, 0, kWidth * cols * 3 / 4 + kWidth / 4, kHeight * rows * 3 / 4 + kHeight / 4, 0,
                  0);
    f.pls_->ssub(cols, rows);
    f.pls_->scol0(0, 255, 255, 255);
    f.pls_->scol0(1, 0, 0, 0);
    for (int i = 0; i < kPaletteSize; ++i) {
      f.pls_->scol0(kFirstSeriesColor + i, kPalette[i][0], kPalette[i][1], kPalette[i][2]);
    }
    f.pls_->init();
    return f;
  }
  Figure(Figure&&) = default;
  Figure& operator=(Figure&&) = default;
  ~Figure() {
    if (tmp_.empty()) return;
    pls_.reset();
    std::remove(tmp_.c_str());
  }

  plstream* operator->() { return pls_.get(); }
  plstream& operator*() { return *pls_; }

  absl::Status Finish() {
    pls_.reset();  // plend1: PLplot writes the rest of the file
    const std::string tmp = std::exchange(tmp_, "");
    absl::StatusOr<std::string> bytes = data::ReadFileBytes(tmp);
    std::remove(tmp.c_str());
    if (!bytes.ok())
      return absl::DataLossError(absl::StrCat(path_, ": the figure was not written"));
    if (!Complete(*bytes)) {
      return absl::DataLossError(absl::StrCat(path_, ": the figure was written incompletely (",
                                              bytes->size(), " bytes; disk full?)"));
    }
    return data::WriteFileAtomically(path_, *bytes);
  }

 private:
  explicit Figure(std::string path) : path_(std::move(path)), tmp_(path_ + ".plot.tmp") {}

  // An SVG ends with its closing tag, a PNG with its IEND chunk.
  bool Complete(const std::string& bytes) const {
    const std::string trimmed(absl::StripTrailingAsciiWhitespace(bytes));
    if (absl::EndsWith(path_, ".svg")) return absl::EndsWith(trimmed, "</svg>");
    return bytes.size() >= 12 && bytes.compare(bytes.size() - 8, 4, "IEND") == 0;
  }

  std::string path_, tmp_;
  std::unique_ptr<plstream> pls_;
};

absl::Status Transform(bool log, std::vector<double>* v, const char* axis) {
  if (!log) return absl::OkStatus();
  for (double& x : *v) {
    if (!(x > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("log ", axis, " axis needs positive values, got ", x));
    }
    x = std::log10(x);
  }
  return absl::OkStatus();
}

void Extend(const std::vector<double>& v, double* lo, double* hi) {
  for (double x : v) {
    if (std::isfinite(x)) {
      *lo = std::min(*lo, x);
      *hi = std::max(*hi, x);
    }
  }
}

// Widens a degenerate or empty range so that plenv accepts it.
void Pad(double* lo, double* hi) {
  if (*lo > *hi) *lo = 0, *hi = 1;
  const double pad = *hi > *lo ? 0.03 * (*hi - *lo) : std::max(1e-3, 0.05 * std::abs(*lo));
  *lo -= pad;
  *hi += pad;
}

void DrawLegend(plstream& pls, const std::vector<Series>& series) {
  const int n = static_cast<int>(series.size());
  std::vector<PLINT> opts(n, PL_LEGEND_LINE), colors(n), styles(n, 1);
  std::vector<PLFLT> widths(n, 2.0);
  std::vector<const char*> text(n);
  for (int i = 0; i < n; ++i) {
    colors[i] = kFirstSeriesColor + i % kPaletteSize;
    text[i] = series[i].name.c_str();
  }
  PLFLT w, h;
  pls.legend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.02, 0.02, 0.1, 0, 1, 1, 0,
             0, n, opts.data(), 1.0, 0.9, 2.0, 0.0, colors.data(), text.data(), nullptr, nullptr,
             nullptr, nullptr, colors.data(), styles.data(), widths.data(), nullptr, nullptr,
             nullptr, nullptr);
}

}  // namespace

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, values.size() - 1);
  return values[i] + (pos - static_cast<double>(i)) * (values[j] - values[i]);
}

Series MedianBand(std::string name, std::vector<double> x,
                  const std::vector<std::vector<double>>& runs) {
  Series s{std::move(name), std::move(x), {}, {}, {}};
  for (size_t i = 0; i < s.x.size(); ++i) {
    std::vector<double> at;
    for (const auto& run : runs) at.push_back(run.at(i));
    s.y.push_back(Quantile(at, 0.5));
    s.lower.push_back(Quantile(at, 0.25));
    s.upper.push_back(Quantile(at, 0.75));
  }
  return s;
}

namespace {

// Draws one line plot on the next (sub)page of `pls`.
absl::Status DrawLinePanel(plstream& pls, const std::string& path, const Axes& axes,
                           const std::vector<Series>& series, bool legend) {
  std::vector<Series> t = series;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (Series& s : t) {
    if (s.y.size() != s.x.size() ||
        (!s.lower.empty() && (s.lower.size() != s.x.size() || s.upper.size() != s.x.size()))) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": series '", s.name, "' has x, y and band of different lengths"));
    }
    RETURN_IF_ERROR(Transform(axes.log_x, &s.x, "x"));
    for (auto* v : {&s.y, &s.lower, &s.upper}) RETURN_IF_ERROR(Transform(axes.log_y, v, "y"));
    Extend(s.x, &x0, &x1);
    for (const auto* v : {&s.y, &s.lower, &s.upper}) Extend(*v, &y0, &y1);
  }
  Pad(&x0, &x1);
  Pad(&y0, &y1);
  if (std::isfinite(axes.y_min) && std::isfinite(axes.y_max) && axes.y_min < axes.y_max) {
    y0 = axes.log_y ? std::log10(axes.y_min) : axes.y_min;
    y1 = axes.log_y ? std::log10(axes.y_max) : axes.y_max;
  }
  pls.col0(1);
  pls.env(x0, x1, y0, y1, 0, (axes.log_x ? 10 : 0) + (axes.log_y ? 20 : 0));
  pls.lab(axes.xlabel.c_str(), axes.ylabel.c_str(), axes.title.c_str());
  for (size_t i = 0; i < t.size(); ++i) {
    const Series& s = t[i];
    const int color = kFirstSeriesColor + static_cast<int>(i) % kPaletteSize;
    if (!s.lower.empty() && s.x.size() >= 2) {  // a band of one point has no area
      std::vector<double> px(s.x), py(s.upper);
      px.insert(px.end(), s.x.rbegin(), s.x.rend());
      py.insert(py.end(), s.lower.rbegin(), s.lower.rend());
      const int* rgb = kPalette[i % kPaletteSize];
      pls.scol0a(color, rgb[0], rgb[1], rgb[2], 0.25);
      pls.col0(color);
      pls.fill(static_cast<PLINT>(px.size()), px.data(), py.data());
      pls.scol0a(color, rgb[0], rgb[1], rgb[2], 1.0);
    }
    pls.col0(color);
    pls.width(2.0);
    pls.line(static_cast<PLINT>(s.x.size()), s.x.data(), s.y.data());
  }
  pls.width(1.0);
  if (legend && !t.empty()) DrawLegend(pls, t);
  return absl::OkStatus();
}

}  // namespace

absl::Status LinePlot(const std::string& path, const Axes& axes,
                      const std::vector<Series>& series) {
  return LinePlotGrid(path, 1, 1, {{axes, series}});
}

absl::Status LinePlotGrid(const std::string& path, int rows, int cols,
                          const std::vector<Panel>& panels) {
  if (rows < 1 || cols < 1 || static_cast<int>(panels.size()) > rows * cols) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", panels.size(), " panels do not fit a ", rows, "x", cols, " grid"));
  }
  ASSIGN_OR_RETURN(Figure pls, Figure::Open(path, rows, cols));
  for (const Panel& p : panels)
    RETURN_IF_ERROR(DrawLinePanel(*pls, path, p.axes, p.series, p.legend));
  return pls.Finish();
}

absl::Status Histogram(const std::string& path, const Axes& axes, const std::vector<double>& values,
                       int bins) {
  if (bins < 1) return absl::InvalidArgumentError(absl::StrCat("bins must be >= 1, got ", bins));
  double lo = INFINITY, hi = -INFINITY;
  Extend(values, &lo, &hi);
  if (lo > hi) return absl::InvalidArgumentError(absl::StrCat(path, ": no finite values"));
  if (lo == hi) lo -= 0.5, hi += 0.5;
  std::vector<double> centers(bins);
  const double width = (hi - lo) / bins;
  std::vector<double> counts = BinCounts(values, lo, width, bins);
  for (int b = 0; b < bins; ++b) centers[b] = lo + (b + 0.5) * width;
  ASSIGN_OR_RETURN(Figure pls, Figure::Open(path));
  pls->col0(1);
  pls->env(lo, hi, 0, 1.05 * *std::max_element(counts.begin(), counts.end()), 0, 0);
  pls->lab(axes.xlabel.c_str(), axes.ylabel.empty() ? "count" : axes.ylabel.c_str(),
           axes.title.c_str());
  pls->col0(kFirstSeriesColor);
  pls->bin(bins, centers.data(), counts.data(), PL_BIN_CENTRED);
  return pls.Finish();
}

absl::Status Heatmap(const std::string& path, const Axes& axes, const Matrix& m, bool symmetric) {
  if (m.rows < 1 || m.cols < 1 || static_cast<int64_t>(m.values.size()) != m.rows * m.cols) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": matrix of ", m.rows, "x", m.cols,
                                                   " with ", m.values.size(), " values"));
  }
  double lo = INFINITY, hi = -INFINITY;
  Extend(m.values, &lo, &hi);
  if (symmetric) hi = std::max(std::abs(lo), std::abs(hi)), lo = -hi;
  if (!(hi > lo)) hi = lo + 1;
  ASSIGN_OR_RETURN(Figure pls, Figure::Open(path));
  const PLFLT pos[] = {0.0, 0.5, 1.0};
  const PLFLT red[] = {0.13, 1.0, 0.84}, green[] = {0.40, 1.0, 0.15}, blue[] = {0.67, 1.0, 0.16};
  pls->scmap1l(true, 3, pos, red, green, blue, nullptr);
  pls->col0(1);
  pls->env(0, m.cols, 0, m.rows, 1, -2);
  // One filled unit square per entry, row 0 at the top.
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t c = 0; c < m.cols; ++c) {
      const double v = std::clamp((m.values[r * m.cols + c] - lo) / (hi - lo), 0.0, 1.0);
      const PLFLT y0 = static_cast<PLFLT>(m.rows - 1 - r);
      const PLFLT xs[] = {PLFLT(c), PLFLT(c + 1), PLFLT(c + 1), PLFLT(c)};
      const PLFLT ys[] = {y0, y0, y0 + 1, y0 + 1};
      pls->col1(std::isfinite(v) ? v : 0.5);
      pls->fill(4, xs, ys);
    }
  }
  pls->col0(1);
  pls->box("bcnst", 0, 0, "bcst", 0, 0);
  const std::string xlabel =
      absl::StrFormat("%s  [colour: %.3g (blue) .. %.3g (red)]", axes.xlabel, lo, hi);
  pls->lab(xlabel.c_str(), axes.ylabel.c_str(), axes.title.c_str());
  return pls.Finish();
}

absl::Status SparsityPattern(const std::string& path, const Axes& axes, const Matrix& m,
                             double threshold) {
  if (m.rows < 1 || m.cols < 1 || static_cast<int64_t>(m.values.size()) != m.rows * m.cols) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": matrix of ", m.rows, "x", m.cols,
                                                   " with ", m.values.size(), " values"));
  }
  std::vector<PLFLT> xs, ys;
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t c = 0; c < m.cols; ++c) {
      if (std::abs(m.values[r * m.cols + c]) > threshold) {
        xs.push_back(c + 0.5);
        ys.push_back(m.rows - r - 0.5);
      }
    }
  }
  ASSIGN_OR_RETURN(Figure pls, Figure::Open(path));
  pls->col0(1);
  pls->env(0, m.cols, 0, m.rows, 1, -2);
  pls->box("bcst", 0, 0, "bcst", 0, 0);
  const std::string xlabel =
      absl::StrFormat("%s  [%d of %d entries non-zero]", axes.xlabel, xs.size(), m.rows * m.cols);
  pls->lab(xlabel.c_str(), axes.ylabel.c_str(), axes.title.c_str());
  pls->col0(kFirstSeriesColor);
  pls->ssym(0, 0.3);
  if (!xs.empty()) pls->poin(static_cast<PLINT>(xs.size()), xs.data(), ys.data(), 17);
  return pls.Finish();
}

}  // namespace common::plot
