#!/usr/bin/env python3
"""Times the reference-style ICNN training step in eager PyTorch, to compare with icnn_bench's
BM_IcnnTrainStep/convex:1/ftz:0 on the same machine.

Written from shared/specs/icnn.md (not copied): the depth experiment's MLP as wide as the input
(784), a first unconstrained Linear and 5 ConvexLinear layers with lazy clipping (in-place clamp
of the weights at every forward), ReLU, summed cross-entropy, torch.optim.Adam(lr 1e-3), batch 64;
weights from the principled log-normal initialisation (mean/var of the spec's fixed point; the
time does not depend on the exact values, only on their magnitudes, which create subnormals).

  OPENBLAS_CORETYPE=SkylakeX python3 benchmarks/peers/icnn_reference.py --threads=1
"""
import argparse
import math
import time

import numpy as np
import torch


class ConvexLinear(torch.nn.Linear):
    def forward(self, x):
        with torch.no_grad():
            self.weight.clamp_(min=0)  # lazy clipping
        return super().forward(x)


def principled_(layer, var=1.0, corr=0.5):
    # log-normal weights with E[w] and Var[w] from the fixed point (spec, ConvexInitialiser).
    n = layer.in_features
    mean = math.sqrt(3 * var * (1 - corr) / (n * math.pi * (1 + 2 * (n - 1) * corr)))  # order of magnitude
    std2 = var / n
    s2 = math.log(1 + std2 / mean ** 2)
    with torch.no_grad():
        layer.weight.copy_(torch.exp(torch.randn_like(layer.weight, dtype=torch.float64) * math.sqrt(s2)
                                     + math.log(mean) - s2 / 2).float())
        layer.bias.fill_(-0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    layers = [torch.nn.Linear(784, 784)]
    for _ in range(5):
        layer = ConvexLinear(784, 784)
        principled_(layer)
        layers.append(layer)
    out = ConvexLinear(784, 10)
    principled_(out)
    body = torch.nn.ModuleList(layers)

    def forward(x):
        for layer in body:
            x = torch.relu(layer(x))
        return out(x)

    params = list(body.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x, y = torch.randn(64, 784), torch.randint(10, (64,))

    def step():
        loss = torch.nn.functional.cross_entropy(forward(x), y, reduction="sum")
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print(f"torch {torch.__version__}, threads {args.threads}")
    print(f"ICNN Adam step (784 wide, 5 convex layers, batch 64): median {1e3 * np.median(times):.1f} ms")


if __name__ == "__main__":
    main()
