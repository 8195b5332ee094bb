// The paper's headline claims for //:reproduce (common/report/claim.h); see claims.cc.
#ifndef WEIGHTNORM_INIT_CLAIMS_H_
#define WEIGHTNORM_INIT_CLAIMS_H_

#include <vector>

#include "common/report/claim.h"

namespace weightnorm_init {

std::vector<common::report::Claim> Claims();

}  // namespace weightnorm_init

#endif  // WEIGHTNORM_INIT_CLAIMS_H_
