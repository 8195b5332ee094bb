// The paper's headline claims for //:reproduce (common/report/claim.h): an implicit model matches
// a feed-forward network, well-posedness holds throughout training, robustness to FGSM and noise
// against the certified bound, and the extrapolation notebooks.
#ifndef IMPLICIT_DL_CLAIMS_H_
#define IMPLICIT_DL_CLAIMS_H_

#include <vector>

#include "common/report/claim.h"

namespace implicit_dl {

std::vector<common::report::Claim> Claims();

}  // namespace implicit_dl

#endif  // IMPLICIT_DL_CLAIMS_H_
