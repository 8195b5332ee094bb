#!/usr/bin/env python3
"""Times, in eager PyTorch on the same GPU, the computations of picard_cuda_bench and
projections_cuda_bench the way the reference Python implementations do them, and prints the
ratios to the C++ figures when given their JSON output.

Written from shared/specs/implicit_dl.md and excess_capacity.md (not copied):
  * Picard (implicit_dl's inn_pred / inn_pred_grad): X = relu(A @ X + Z) in a Python loop, the
    stopping test `torch.norm(X_new - X, inf) < tol` each iteration (a host round trip), the
    iterate before the last update returned; the adjoint V = D * (A.T @ V) + D * G likewise.
  * Row-wise L1 projection: the reference's per-row numpy loop (A copied to the host), and a
    batched sort-based GPU version (the fastest plain-PyTorch route; the ratio goal uses it).
  * (2,1) group projection: excess_capacity_reference.dist_proj (the reference DistProj: lambda by bisection with an
    `.item()` per step (1000 steps or |f| <= 1e-8), soft-thresholding.
  * Spectral norms: power iteration with mv / mv on a matrix; for cyclic convs, conv2d and
    conv_transpose2d with circular padding on a [1, c, side, side] input, as the reference's lip().
Inputs are the deterministic hashed problems of benchmarks/cuda_problems.h, rebuilt here.

  python3 benchmarks/peers/cuda_reference.py                       # on a GPU host
  python3 benchmarks/peers/cuda_reference.py --cpp picard.json projections.json
  python3 benchmarks/peers/cuda_reference.py --device cpu --quick  # a smoke run without a GPU
"""
import argparse
import json
import time

import numpy as np
import torch

from excess_capacity_reference import dist_proj as group_bisection  # DistProj, bisection
from implicit_dl_reference import picard as picard_loop  # the reference loop, max-abs test
from implicit_dl_reference import project_rows_inf  # the reference per-row numpy projection


def hash_matrix(rows, cols, scale, offset=0):
    i = np.arange(rows, dtype=np.float64)[:, None] + offset
    j = np.arange(cols, dtype=np.float64)[None, :]
    s = np.sin(12.9898 * i + 78.233 * j) * 43758.5453
    return torch.from_numpy((scale * (s - np.floor(s) - 0.5)).astype(np.float32))


def picard_a(n):
    a = hash_matrix(n, n, 1.4 / n)
    a.fill_diagonal_(0.6)
    return a


def picard(step, x, mitr=300, tol=3e-6):
    return picard_loop(step, x, mitr, tol)


def l1_rows_numpy(a, v=0.95):
    return project_rows_inf(a, v).to(a.device)


def l1_rows_sort(a, v=0.95):
    absa = a.abs()
    outside = absa.sum(1) > v
    u = absa.sort(1, descending=True)[0]
    c = u.cumsum(1)
    k = torch.arange(1, a.shape[1] + 1, device=a.device, dtype=a.dtype)
    rho = ((u - (c - v) / k) > 0).sum(1, keepdim=True).clamp(min=1)
    theta = ((c.gather(1, rho - 1) - v) / rho).squeeze(1)
    theta = torch.where(outside, theta, torch.zeros_like(theta))
    return torch.sign(a) * (absa - theta[:, None]).clamp(min=0)


def power_matrix(w, v, iters=20):
    for _ in range(iters):
        u = w @ v
        u = u / u.norm()
        v = w.t() @ u
        sigma = v.norm()
        v = v / sigma
    return sigma


def fold_circular(z, side, left, dim):
    """The adjoint of circular padding along `dim`: padded index p adds into (p - left) mod side."""
    idx = (torch.arange(z.shape[dim], device=z.device) - left) % side
    shape = list(z.shape)
    shape[dim] = side
    return torch.zeros(shape, device=z.device, dtype=z.dtype).index_add_(dim, idx, z)


def power_conv(w, side, iters=50):
    k = w.shape[-1]
    left, right = k // 2, k // 2 - (1 - k % 2)
    conv = lambda x: torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, (left, right, left, right), mode="circular"), w)
    x = torch.ones(1, w.shape[1], side, side, device=w.device)
    for _ in range(iters):
        y = conv(x)
        y = y / y.norm()
        z = torch.nn.functional.conv_transpose2d(y, w)  # adjoint of the valid conv
        z = fold_circular(fold_circular(z, side, left, 2), side, left, 3)
        sigma = z.norm()
        x = z / sigma
    return sigma.item()


def timed(fn, device, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        if device.type == "cuda":
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            fn()
            stop.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(stop) * 1e3)
        else:
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1e6)
    return float(np.median(times))


def run(device, quick, reps):
    rows = {}
    picard_sizes = [(100, 100), (300, 100)] + ([] if quick else [(1024, 1024), (4096, 1024), (4096, 4096)])
    for n, m in picard_sizes:
        a, z = picard_a(n).to(device), hash_matrix(n, m, 2.0, 7919).to(device)
        x0 = torch.zeros(n, m, device=device)
        step = lambda x: torch.relu(a @ x + z)
        _, maps = picard(step, x0)
        rows[f"BM_PicardForward/n:{n}/m:{m}/bf16:0"] = (timed(lambda: picard(step, x0), device, reps), maps)
        d = (hash_matrix(n, m, 1.0, 104729) > 0).float().to(device)
        g = hash_matrix(n, m, 2.0, 15485863).to(device)
        dg = d * g
        adj = lambda v: d * (a.t() @ v) + dg
        _, maps = picard(adj, torch.zeros_like(x0))
        rows[f"BM_PicardAdjoint/n:{n}/m:{m}"] = (timed(lambda: picard(adj, torch.zeros_like(x0)), device, reps), maps)
    for r, c in [(100, 100), (300, 300)] + ([] if quick else [(1024, 1024), (4096, 4096)]):
        a = hash_matrix(r, c, 4.0 / np.sqrt(c)).to(device)
        rows[f"BM_RowsL1Ball/rows:{r}/cols:{c}"] = (timed(lambda: l1_rows_sort(a), device, reps), None)
        if r <= 1024:
            rows[f"reference_numpy_loop/rows:{r}/cols:{c}"] = (timed(lambda: l1_rows_numpy(a), device, max(3, reps // 5)), None)
    for cout, cin, kk in [(64, 3, 49), (64, 64, 9)] + ([] if quick else [(128, 128, 9), (256, 256, 4), (512, 512, 1), (512, 512, 9)]):
        count = cout * cin * kk
        x0 = hash_matrix(1, count, 0.1, 3)
        x = x0 + hash_matrix(1, count, 0.02, 5)
        # groups are the fibres along cin: move that axis last-but-one -> [cout * kk, cin]
        to_groups = lambda t: t.view(cout, cin, kk).permute(0, 2, 1).reshape(cout * kk, cin).to(device)
        x, x0 = to_groups(x), to_groups(x0)
        radius = 0.5 * (x - x0).norm(dim=1).sum().item()
        rows[f"BM_GroupNormBall/cout:{cout}/cin:{cin}/kk:{kk}"] = (timed(lambda: group_bisection(x, x0, radius), device, reps), None)
    for n in [300, 512] + ([] if quick else [1024, 4096]):
        w, v = hash_matrix(n, n, 1.0).to(device), hash_matrix(1, n, 1.0, 11)[0].to(device)
        rows[f"BM_MatrixSpectralNorm/n:{n}"] = (timed(lambda: power_matrix(w, v), device, reps), None)
    for cout, cin, k, side in [(64, 3, 7, 32), (64, 64, 3, 8)] + ([] if quick else [(128, 128, 3, 4), (256, 256, 2, 2), (512, 512, 1, 1)]):
        w = hash_matrix(cout * cin, k * k, 0.1).view(cout, cin, k, k).to(device)
        rows[f"BM_CyclicConvSpectralNorm/cout:{cout}/cin:{cin}/k:{k}/side:{side}"] = (timed(lambda: power_conv(w, side), device, reps), None)
    return rows


def cpp_medians(paths):
    medians = {}
    for path in paths:
        with open(path) as f:
            for b in json.load(f)["benchmarks"]:
                if b.get("aggregate_name", "median") != "median":
                    continue
                name = b["run_name"].replace("/manual_time", "")
                scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b["time_unit"]]
                medians[name] = (b["real_time"] * scale, b.get("maps"))
    return medians


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--cpp", nargs="*", default=[], help="Google Benchmark JSON of the C++ binaries")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        print(f"# {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    rows = run(device, args.quick, args.reps)
    cpp = cpp_medians(args.cpp)
    print(f"{'computation':58s} {'pytorch_us':>12s} {'maps':>5s} {'cpp_us':>10s} {'maps':>5s} {'ratio':>7s}")
    for name, (us, maps) in rows.items():
        c_us, c_maps = cpp.get(name, (None, None))
        ratio = f"{us / c_us:7.1f}" if c_us else ""
        c_text = f"{c_us:10.1f}" if c_us else ""
        print(f"{name:58s} {us:12.1f} {maps if maps else '':>5} {c_text:>10s} {int(c_maps) if c_maps else '':>5} {ratio}")


if __name__ == "__main__":
    main()
