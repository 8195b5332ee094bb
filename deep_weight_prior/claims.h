// The paper's headline claims for //:reproduce (common/report/claim.h); see claims.cc.
#ifndef DEEP_WEIGHT_PRIOR_CLAIMS_H_
#define DEEP_WEIGHT_PRIOR_CLAIMS_H_

#include <vector>

#include "common/report/claim.h"

namespace deep_weight_prior {

std::vector<common::report::Claim> Claims();

}  // namespace deep_weight_prior

#endif  // DEEP_WEIGHT_PRIOR_CLAIMS_H_
