#include "common/data/numpy_random.h"

#include <gtest/gtest.h>

#include <vector>

namespace common::data {
namespace {

// The oracle: numpy 1.24.2's legacy RandomState and scikit-learn 1.2.1 (Debian bookworm):
//   np.random.RandomState(0).permutation(10)
//   train_test_split(np.arange(len(y)), train_size=n, random_state=seed, stratify=y)[0]
TEST(NumpyRandomState, PermutationMatchesNumpy) {
  NumpyRandomState rng(0);
  EXPECT_EQ(rng.Permutation(10), (std::vector<int64_t>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}));
  NumpyRandomState rng42(42);
  EXPECT_EQ(rng42.Permutation(7), (std::vector<int64_t>{0, 1, 5, 2, 4, 3, 6}));
}

std::vector<int64_t> Hashed(int64_t n) {  // y[i] = ((i * 2654435761) mod 2^32) mod 10
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i) y.push_back(((i * 2654435761LL) % 4294967296LL) % 10);
  return y;
}

TEST(SklearnStratifiedTrainIndices, UnbalancedClasses) {
  std::vector<int64_t> y(60, 0);
  y.insert(y.end(), 30, 1);
  y.insert(y.end(), 10, 2);
  EXPECT_EQ(SklearnStratifiedTrainIndices(y, 15, 1).value(),
            (std::vector<int64_t>{42, 70, 72, 85, 36, 40, 41, 49, 61, 2, 92, 26, 51, 34, 80}));
}

TEST(SklearnStratifiedTrainIndices, TiedRemaindersDrawnLikeNumpyChoice) {
  std::vector<int64_t> y;
  for (int64_t i = 0; i < 500; ++i) y.push_back(i % 5);  // 2.4 per class: 2 of 5 ties get one
  EXPECT_EQ(SklearnStratifiedTrainIndices(y, 12, 0).value(),
            (std::vector<int64_t>{10, 273, 212, 284, 146, 300, 482, 423, 449, 91, 130, 292}));
}

TEST(SklearnStratifiedTrainIndices, TenClassesFiftyExamples) {
  EXPECT_EQ(SklearnStratifiedTrainIndices(Hashed(6000), 50, 3).value(),
            (std::vector<int64_t>{3843, 3346, 3563, 3630, 5443, 2598, 2339, 1495, 1022, 2105,
                                  4268, 2661, 366,  5408, 303,  626,  1321, 5810, 4157, 3763,
                                  90,   1278, 864,  386,  1887, 322,  1383, 3368, 1131, 2058,
                                  1236, 2371, 2923, 5527, 680,  1359, 5402, 1830, 4290, 5751,
                                  3460, 2577, 5217, 5233, 3672, 646,  5472, 1149, 5433, 1553}));
  std::vector<int64_t> seed0 = SklearnStratifiedTrainIndices(Hashed(6000), 50, 0).value();
  EXPECT_EQ(std::vector<int64_t>(seed0.begin(), seed0.begin() + 5),
            (std::vector<int64_t>{5901, 361, 67, 807, 4425}));
}

TEST(SklearnStratifiedTrainIndices, RefusesWhatScikitLearnRefuses) {
  EXPECT_FALSE(SklearnStratifiedTrainIndices(Hashed(100), 5, 0).ok());   // < 10 classes
  EXPECT_FALSE(SklearnStratifiedTrainIndices(Hashed(100), 95, 0).ok());  // rest < 10 classes
  EXPECT_FALSE(SklearnStratifiedTrainIndices(Hashed(100), 100, 0).ok());
  EXPECT_FALSE(SklearnStratifiedTrainIndices({0, 0, 1}, 1, 0).ok());  // class 1 has one member
}

}  // namespace
}  // namespace common::data
