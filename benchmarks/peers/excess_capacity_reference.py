#!/usr/bin/env python3
"""Times the reference excess_capacity projection (project(1) of the no-stride PreAct-ResNet18)
in eager PyTorch, to compare with capacity_bench on the same machine.

Written from the behaviour described in shared/specs/excess_capacity.md (not copied): per conv
layer, the kernel is zero-embedded in its input grid; one Dykstra sweep runs DistProj (group
soft-thresholding with lambda by bisection, 1000 steps or |f| <= 1e-8; skipped when inside the
ball), LipProj (FFT2, batched complex SVD of every per-frequency matrix, clip, inverse FFT; run
even when inactive, as the reference) and the kernel-support mask; the linear classifier gets the
SVD clip. Layer shapes are the CIFAR ResNet's after the 1x1 / 2x2 kernel rewrites.

Two states, as in capacity_bench: "inside" (distance constraint inactive, as in training where
dist = 90 is far from binding) and "outside" (kernels pushed by 0.5 randn / sqrt(fan_in), with a
distance radius half the distance, so the bisection runs).

  OPENBLAS_CORETYPE=SkylakeX python3 benchmarks/peers/excess_capacity_reference.py --threads=1
"""
import argparse
import time

import torch

# (cin, cout, kernel, grid side, lip)
LAYERS = ([(3, 64, 7, 32, 2.0)] + [(64, 64, 3, 8, 0.8)] * 4 +
          [(64, 128, 3, 8, 0.8)] + [(128, 128, 3, 4, 0.8)] * 3 +
          [(128, 256, 3, 4, 0.8)] + [(256, 256, 2, 2, 0.8)] * 3 +
          [(256, 512, 2, 2, 0.8)] + [(512, 512, 1, 1, 0.8)] * 3)


def dist_proj(x, x0, r):
    delta = x - x0
    n = delta.norm(dim=1, keepdim=True)
    if n.sum() <= r:
        return x
    lo, hi = 0.0, n.max().item()
    for _ in range(1000):
        mid = 0.5 * (lo + hi)
        f = (n - mid).clamp(min=0).sum() - r
        if abs(f.item()) <= 1e-8:
            break
        if f > 0:
            lo = mid
        else:
            hi = mid
    delta = delta * (1 - mid / n).clamp(min=0)
    delta[delta.abs() < 1e-8] = 0
    return x0 + delta


def lip_proj_conv(x, bound):
    xf = torch.fft.fft2(x, dim=(2, 3)).permute(2, 3, 0, 1)
    u, s, vh = torch.linalg.svd(xf, full_matrices=False)
    s = s.clamp(max=bound).to(xf.dtype)
    rebuilt = (u * s.unsqueeze(-2)) @ vh
    return torch.fft.ifft2(rebuilt.permute(2, 3, 0, 1), dim=(2, 3)).real


def project_layer(w, w0, k, side, lip, radius):
    embed = lambda t: torch.nn.functional.pad(t, (0, side - k, 0, side - k))
    x = embed(w)
    x = dist_proj(x, embed(w0), radius)
    x = lip_proj_conv(x, lip)
    mask = torch.zeros_like(x)
    mask[:, :, :k, :k] = 1
    return (x * mask)[:, :, :k, :k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    fc = torch.randn(10, 512) / 512 ** 0.5
    for state in ("inside", "outside"):
        layers = []
        for cin, cout, k, side, lip in LAYERS:
            w0 = torch.randn(cout, cin, k, k) / (cin * k * k) ** 0.5
            w = w0 + (0.5 if state == "outside" else 0.01) * torch.randn_like(w0) / (cin * k * k) ** 0.5
            d = (w - w0).norm(dim=1).sum().item()
            layers.append((w, w0, k, side, lip, 0.5 * d if state == "outside" else 90.0))
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            with torch.no_grad():
                for w, w0, k, side, lip, r in layers:
                    project_layer(w, w0, k, side, lip, r)
                u, s, vh = torch.linalg.svd(fc, full_matrices=False)
                fc_new = (u * s.clamp(max=1.0).unsqueeze(-2)) @ vh
            times.append(time.perf_counter() - t)
        times.sort()
        print(f"reference project(1) of the ResNet, distance {state}: median {1e3 * times[len(times) // 2]:.0f} ms")


if __name__ == "__main__":
    main()
