// The data-dependent initialisation of the reference's empirical_init.py (an LSUV-style variant
// the paper did not use): layer by layer on one batch, every unit's weights are rescaled and its
// bias reset so that its pre-activation has the target mean and variance on that batch; the first
// (any-sign) layer's weight rows are centred first. Convex layers are rescaled through their
// positivity (raw <- inverse(s * positivity(raw)), s > 0), so they stay non-negative.
#ifndef ICNN_EMPIRICAL_INIT_H_
#define ICNN_EMPIRICAL_INIT_H_

#include <torch/types.h>

#include "icnn/convex_modules.h"

namespace icnn {

// batch [B, D] (B >= 2). Skip connections, if any, are left as they are.
void EmpiricalInit(IcnnMlpImpl& net, const torch::Tensor& batch, double target_mean = 0.0,
                   double target_var = 1.0);

}  // namespace icnn

#endif  // ICNN_EMPIRICAL_INIT_H_
