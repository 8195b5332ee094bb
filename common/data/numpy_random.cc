#include "common/data/numpy_random.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace common::data {

uint64_t NumpyRandomState::Interval(uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;
  for (int shift : {1, 2, 4, 8, 16, 32}) mask |= mask >> shift;
  uint64_t value;
  if (max <= 0xffffffffULL) {
    do {
      value = static_cast<uint64_t>(mt_()) & mask;
    } while (value > max);
  } else {
    do {  // numpy's next_uint64 for MT19937: two 32-bit draws, high word first
      const uint64_t hi = mt_(), lo = mt_();
      value = ((hi << 32) | lo) & mask;
    } while (value > max);
  }
  return value;
}

std::vector<int64_t> NumpyRandomState::Permutation(int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  Shuffle(p);
  return p;
}

namespace {

// scikit-learn's _approximate_mode: per-class counts summing to n_draws, the floors of the
// proportional shares plus one for the largest remainders, ties broken at random from `rng`.
std::vector<int64_t> ApproximateMode(const std::vector<int64_t>& class_counts, int64_t n_draws,
                                     NumpyRandomState& rng) {
  const double total = std::accumulate(class_counts.begin(), class_counts.end(), 0.0);
  const size_t k = class_counts.size();
  std::vector<double> continuous(k), remainder(k);
  std::vector<int64_t> floored(k);
  double floored_sum = 0;
  for (size_t i = 0; i < k; ++i) {
    continuous[i] = static_cast<double>(class_counts[i]) / total * static_cast<double>(n_draws);
    const double f = std::floor(continuous[i]);
    floored[i] = static_cast<int64_t>(f);
    floored_sum += f;
    remainder[i] = continuous[i] - f;
  }
  auto need_to_add = static_cast<int64_t>(static_cast<double>(n_draws) - floored_sum);
  if (need_to_add <= 0) return floored;
  std::vector<double> values = remainder;
  std::sort(values.begin(), values.end(), std::greater<>());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  for (double value : values) {
    std::vector<int64_t> inds;
    for (size_t i = 0; i < k; ++i) {
      if (remainder[i] == value) inds.push_back(static_cast<int64_t>(i));
    }
    const int64_t add_now = std::min<int64_t>(static_cast<int64_t>(inds.size()), need_to_add);
    // rng.choice(inds, add_now, replace=False) = inds[permutation(len(inds))[:add_now]]
    const std::vector<int64_t> perm = rng.Permutation(static_cast<int64_t>(inds.size()));
    for (int64_t j = 0; j < add_now; ++j) ++floored[static_cast<size_t>(inds[perm[j]])];
    need_to_add -= add_now;
    if (need_to_add == 0) break;
  }
  return floored;
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> SklearnStratifiedTrainIndices(
    const std::vector<int64_t>& labels, int64_t n, uint32_t seed) {
  const auto total = static_cast<int64_t>(labels.size());
  if (n <= 0 || n >= total) {
    return absl::InvalidArgumentError(
        absl::StrCat("subset size must be in [1, ", total - 1, "], got ", n));
  }
  // np.unique(y, return_inverse=True); class members in ascending index order (stable argsort).
  std::map<int64_t, std::vector<int64_t>> members;
  for (int64_t i = 0; i < total; ++i) members[labels[static_cast<size_t>(i)]].push_back(i);
  std::vector<int64_t> class_counts;
  for (const auto& [label, idx] : members) class_counts.push_back(static_cast<int64_t>(idx.size()));
  const auto n_classes = static_cast<int64_t>(class_counts.size());
  if (*std::min_element(class_counts.begin(), class_counts.end()) < 2) {
    return absl::InvalidArgumentError(
        "the least populated class has only 1 member; a stratified split needs 2 or more");
  }
  if (n < n_classes || total - n < n_classes) {
    return absl::InvalidArgumentError(absl::StrCat("subset size ", n, " and the rest ", total - n,
                                                   " must each be at least the number of classes ",
                                                   n_classes));
  }
  NumpyRandomState rng(seed);
  const std::vector<int64_t> n_i = ApproximateMode(class_counts, n, rng);
  std::vector<int64_t> remaining(class_counts.size());
  for (size_t i = 0; i < remaining.size(); ++i) remaining[i] = class_counts[i] - n_i[i];
  ApproximateMode(remaining, total - n, rng);  // the test counts: drawn for the rng's sake
  std::vector<int64_t> train;
  size_t c = 0;
  for (const auto& [label, idx] : members) {
    const std::vector<int64_t> perm = rng.Permutation(static_cast<int64_t>(idx.size()));
    for (int64_t j = 0; j < n_i[c]; ++j) train.push_back(idx[static_cast<size_t>(perm[j])]);
    ++c;
  }
  rng.Shuffle(train);
  return train;
}

}  // namespace common::data
