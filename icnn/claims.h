// The paper's headline claims for //:reproduce (common/report/claim.h): learnability with depth
// (Fig. 2), signal propagation (Fig. 1), generalisation after the grid search (Fig. 3) and
// Tox21 (Table 1).
#ifndef ICNN_CLAIMS_H_
#define ICNN_CLAIMS_H_

#include <vector>

#include "common/report/claim.h"

namespace icnn {

std::vector<common::report::Claim> Claims();

}  // namespace icnn

#endif  // ICNN_CLAIMS_H_
