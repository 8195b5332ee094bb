// The paper's headline claims for //:reproduce (common/report/claim.h); see claims.cc.
#ifndef EXCESS_CAPACITY_CLAIMS_H_
#define EXCESS_CAPACITY_CLAIMS_H_

#include <vector>

#include "common/report/claim.h"

namespace excess_capacity {

std::vector<common::report::Claim> Claims();

}  // namespace excess_capacity

#endif  // EXCESS_CAPACITY_CLAIMS_H_
