// numpy's legacy RandomState (np.random.RandomState(seed) with an integer seed), as far as the
// few-shot subsets of the reference implementations need it: MT19937 seeded by init_genrand, the
// bounded integers of legacy `shuffle` / `permutation` / `choice(replace=False)` (masked rejection
// on 32-bit draws). Draw for draw the same numbers as numpy, so a split that scikit-learn makes
// with `random_state=seed` can be made here without Python.
#ifndef COMMON_DATA_NUMPY_RANDOM_H_
#define COMMON_DATA_NUMPY_RANDOM_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/statusor.h"

namespace common::data {

class NumpyRandomState {
 public:
  explicit NumpyRandomState(uint32_t seed) : mt_(seed) {}

  // A uniform integer in [0, max] (numpy's random_interval).
  uint64_t Interval(uint64_t max);

  // In-place Fisher-Yates from the back, as legacy RandomState.shuffle on a 1-d array.
  template <class T>
  void Shuffle(std::vector<T>& x) {
    for (size_t i = x.size(); i-- > 1;) std::swap(x[i], x[Interval(i)]);
  }

  // RandomState.permutation(n).
  std::vector<int64_t> Permutation(int64_t n);

 private:
  std::mt19937 mt_;  // the same recurrence and seeding as numpy's MT19937 (init_genrand)
};

// scikit-learn's train_test_split(range(N), train_size=n, stratify=labels, random_state=seed):
// the training indices, in the order scikit-learn returns them (StratifiedShuffleSplit with
// _approximate_mode on numpy's legacy RandomState). labels: [N] integer class ids.
// Errors as scikit-learn's: n or N - n smaller than the number of classes, a class with one member.
absl::StatusOr<std::vector<int64_t>> SklearnStratifiedTrainIndices(
    const std::vector<int64_t>& labels, int64_t n, uint32_t seed);

}  // namespace common::data

#endif  // COMMON_DATA_NUMPY_RANDOM_H_
